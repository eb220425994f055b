/**
 * The user-credit service on an ephemeral port, in this process, against the test database, with an
 * injectable clock and a real gRPC client: tests go through the same surface the gateway and call use.
 */
import { randomUUID } from 'node:crypto';
import {
  connectService,
  type Database,
  errorDetailOf,
  errorDetailStrings,
  isGrpcError,
  loadConfig,
  ManualClock,
  type PromiseClient,
  type ServiceHandle,
} from '@callgate/common';
import type { creditV1 } from '@callgate/protos';
import { startUserCreditService, userCreditConfigShape } from '@callgate/user-credit';
import type { status } from '@grpc/grpc-js';

export type CreditClient = PromiseClient<creditV1.CreditServiceDefinition>;

export interface CreditService {
  handle: ServiceHandle;
  client: CreditClient;
  /** The service's clock (its ledger's time; timers stay on the system's). */
  clock: ManualClock;
  address: string;
  stop(): Promise<void>;
}

/** Connects a promise client to a CreditService at host:port. */
export function creditClient(address: string, deadlineMs = 30_000): CreditClient {
  return connectService('credit', address, { defaultDeadlineMs: deadlineMs });
}

/** The longest interval a Node timer takes: the sweeper never runs after its start-up pass. */
export const NEVER_MS = 2_147_483_647;

/**
 * Starts user-credit on free ports with SIGNUP_CREDITS=0 and the periodic sweeper off (it still makes its
 * start-up pass), unless env says otherwise. The database is the test's (not owned: stop leaves it open).
 * Its clock only moves when told to, starting at the real time. Every service's sweeper expires the due
 * holds of all users in the shared `credits` schema by its own clock, so: a clock ahead of real time sweeps
 * others' holds (keep it ahead by less than the shortest ttl others use, and only with holds of a short
 * ttl of its own); a clock behind real time makes holds that real-time sweepers find due (give them a ttl
 * that outlasts the gap, as usage.test.ts does with a week).
 */
export async function startCredit(
  db: Database,
  env: Record<string, string> = {},
  clock: ManualClock = new ManualClock(),
): Promise<CreditService> {
  const config = loadConfig('user-credit', userCreditConfigShape, {
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    SIGNUP_CREDITS: '0',
    // The sweeper expires due holds of every user in the shared schema by this service's clock; a test
    // that moves its clock must not sweep other tests' holds, so only tests of expiry turn it on.
    EXPIRY_SWEEP_INTERVAL_MS: String(NEVER_MS),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    ...env,
  });
  const handle = await startUserCreditService(config, { db, ownsDb: false, clock });
  const address = `127.0.0.1:${handle.grpcPort}`;
  const client = creditClient(address);
  return {
    handle,
    client,
    clock,
    address,
    stop: async () => {
      client.close();
      await handle.stop();
    },
  };
}

/** A user id no other test (or test file running in parallel) uses. */
export function newUserId(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** Creates a user through GetUser createIfMissing and, when credits > 0, grants them with a fresh key. */
export async function userWith(client: CreditClient, credits: number, prefix = 'test'): Promise<string> {
  const userId = newUserId(prefix);
  const { created } = await client.getUser({ userId, createIfMissing: true, displayName: 'Test', email: '' });
  if (!created) throw new Error(`user ${userId} already existed`);
  if (credits > 0) {
    await client.grant({
      userId,
      amount: credits,
      idempotencyKey: `setup-${randomUUID()}`,
      reason: 'setup',
      actor: 'test',
    });
  }
  return userId;
}

/**
 * The gRPC status of a failed call, to assert on: code, message, and the string view of the typed
 * ErrorDetail it carried (`meta`: field, needed, available, …; errorDetailOf reads the detail itself).
 */
export async function grpcFailure(
  call: Promise<unknown>,
): Promise<{ code: status; details: string; meta: Record<string, string> }> {
  try {
    await call;
  } catch (error) {
    if (!isGrpcError(error)) throw error;
    const detail = errorDetailOf(error);
    return { code: error.code, details: error.details, meta: detail ? errorDetailStrings(detail) : {} };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export interface LedgerSums {
  entries: number;
  available: number;
  held: number;
  debt: number;
  charged: number;
}

/** The user's ledger summed directly in SQL: what the balances must equal. */
export async function ledgerSums(db: Database, userId: string): Promise<LedgerSums> {
  const { rows } = await db.query<Record<keyof LedgerSums, string>>(
    `SELECT count(*) AS entries, coalesce(sum(available_change), 0) AS available, coalesce(sum(held_change), 0) AS held,
            coalesce(sum(debt_change), 0) AS debt, coalesce(sum(charged), 0) AS charged
       FROM credits.entries WHERE user_id = $1`,
    [userId],
  );
  const row = rows[0];
  if (!row) throw new Error('no sums');
  return {
    entries: Number(row.entries),
    available: Number(row.available),
    held: Number(row.held),
    debt: Number(row.debt),
    charged: Number(row.charged),
  };
}

/** Entries per kind for a user, e.g. { grant: 1, reserve: 50 }. */
export async function entryKinds(db: Database, userId: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ kind: string; n: string }>(
    'SELECT kind, count(*) AS n FROM credits.entries WHERE user_id = $1 GROUP BY kind ORDER BY kind',
    [userId],
  );
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
}

/** Every usage entry of a user through ListUsage, following page tokens (newest first). */
export async function allUsage(
  client: CreditClient,
  userId: string,
  filter: { callId?: string; from?: string; to?: string } = {},
): Promise<creditV1.UsageEntry__Output[]> {
  const entries: creditV1.UsageEntry__Output[] = [];
  let pageToken = '';
  for (let page = 0; page < 1000; page++) {
    const response = await client.listUsage({ userId, pageSize: 100, pageToken, ...filter });
    entries.push(...response.entries);
    pageToken = response.nextPageToken;
    if (!pageToken) return entries;
  }
  throw new Error('ListUsage never ended');
}
