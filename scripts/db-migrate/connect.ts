/**
 * Opening the two ends: the URL is checked before anything connects, the server is asked once so an
 * unreachable host, a refused login or a missing database fails at once with a message naming which end,
 * and passwords never reach the output.
 */
import { createLogger, PostgresDatabase } from '@callgate/common';

export type End = 'source' | 'target';

export class MigrateError extends Error {
  override readonly name = 'MigrateError';
}

export function isMigrateError(error: unknown): error is MigrateError {
  return error instanceof MigrateError;
}

/** The URL without its password, for messages and the progress record. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

export function checkUrl(end: End, url: string | undefined): string {
  if (!url) throw new MigrateError(`--${end} is required: a postgres:// URL`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MigrateError(`--${end} is not a URL: expected postgres://user:password@host:5432/database`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new MigrateError(`--${end} must be a postgres:// or postgresql:// URL, not ${parsed.protocol}//`);
  }
  if (!parsed.hostname || parsed.pathname.length <= 1) {
    throw new MigrateError(`--${end} must name a host and a database: ${redact(url)}`);
  }
  return url;
}

/** PostgreSQL error codes and network errors an operator can act on, translated. */
function explain(error: unknown): string {
  const e = error as { code?: string; message?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the server running and the port right?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name does not resolve';
    case 'ETIMEDOUT':
      return 'connection timed out (firewall, security group or wrong host?)';
    case '28P01':
    case '28000':
      return `login refused: ${e.message}`;
    case '3D000':
      return `database does not exist: ${e.message}`;
    default:
      return e.message ?? String(error);
  }
}

/** Version 13 brings pg_current_snapshot(), which the catch-up's watermark is read from. */
const MIN_SERVER_VERSION = 130000;

export async function openEnd(end: End, url: string): Promise<PostgresDatabase> {
  const db = new PostgresDatabase({
    url: checkUrl(end, url),
    log: createLogger('db-migrate', 'warn'),
    max: 2,
    applicationName: `callgate-db-migrate-${end}`,
  });
  try {
    const { rows } = await db.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    if (Number(rows[0]?.v) < MIN_SERVER_VERSION) {
      throw new MigrateError(`${end} runs PostgreSQL ${rows[0]?.v}; db-migrate needs 13 or later`);
    }
  } catch (error) {
    await db.close().catch(() => undefined);
    if (isMigrateError(error)) throw error;
    throw new MigrateError(`cannot reach the ${end} database ${redact(url)}: ${explain(error)}`);
  }
  return db;
}
