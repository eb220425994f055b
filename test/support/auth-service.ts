/**
 * Tests only: the auth service in local mode on ephemeral ports, its own test database, and the
 * sandbox's SES stand-in catching its mail.
 */

import { randomBytes } from 'node:crypto';
import { authConfigShape, startAuthService } from '@callgate/auth';
import {
  type Clock,
  type Database,
  loadConfig,
  PersonalTokenFormat,
  personalTokenChecksumKeys,
  type ServiceHandle,
} from '@callgate/common';
import { sandboxConfigShape, startSandbox } from '@callgate/sandbox';
import { openTestDatabase } from './database.js';
import { eventually } from './eventually.js';

export interface TestAuthService {
  auth: ServiceHandle;
  /** The issuer URL. */
  origin: string;
  /** The service's database (as the service sees it when `wrap` was given). */
  db: Database;
  /** The service's personal access token checksum (PERSONAL_TOKEN_CHECKSUM_KEYS: generated unless `env` sets it). */
  personalTokenFormat: PersonalTokenFormat;
  /** Every mail the sandbox caught so far. */
  mails(): Promise<{ to: string[]; subject: string; text: string }[]>;
  /** The link in the newest mail to `to` with a matching subject (other than `not`). */
  mailedLink(to: string, subject: RegExp, not?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestAuthService(
  env: Record<string, string>,
  /** The service's clock (its tokens, links, limits and background jobs). Default systemClock. */
  clock?: Clock,
  /** Stands between the service and its database (a test that watches the statements it runs). */
  wrap?: (db: Database) => Database,
): Promise<TestAuthService> {
  const checksumKeys = env.PERSONAL_TOKEN_CHECKSUM_KEYS ?? randomBytes(32).toString('hex');
  const database = await openTestDatabase();
  const db = wrap ? wrap(database.db) : database.db;
  const sandbox = await startSandbox(
    loadConfig('sandbox', sandboxConfigShape, { SANDBOX_PORT: '0', LOG_LEVEL: 'silent' }),
  );
  const auth = await startAuthService(
    loadConfig('auth', authConfigShape, {
      LOG_LEVEL: 'silent',
      HTTP_PORT: '0',
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      AUTH_LOCAL_MODE: 'true',
      MAIL_SES_ENDPOINT: sandbox.endpoints.ses as string,
      MAIL_DRAIN_INTERVAL_MS: '200',
      PERSONAL_TOKEN_CHECKSUM_KEYS: checksumKeys,
      ...env,
    }),
    { db, ownsDb: false, dataDir: undefined, ...(clock ? { clock } : {}) },
  );
  const mails = async () =>
    (
      (await (await fetch(`${sandbox.endpoints.ses}/sandbox/mail`)).json()) as {
        mails: { to: string[]; subject: string; text: string }[];
      }
    ).mails;
  return {
    auth,
    origin: auth.endpoints.issuer as string,
    db,
    personalTokenFormat: new PersonalTokenFormat(personalTokenChecksumKeys.parse(checksumKeys)),
    mails,
    mailedLink: (to, subject, not) =>
      eventually(`mail ${subject} to ${to}`, async () => {
        return (await mails())
          .filter((m) => m.to.includes(to) && subject.test(m.subject))
          .map((m) => /https?:\/\/\S+/.exec(m.text)?.[0])
          .filter((l) => l && l !== not)
          .pop();
      }),
    stop: async () => {
      await auth.stop();
      await sandbox.stop();
      await database.close();
    },
  };
}
