/**
 * A PostgreSQL database of its own for one `npm test` run, so no test sees what an earlier (or a
 * concurrent) run left behind: created on the server DATABASE_URL points at, dropped when the run ends.
 * Runs killed before they could drop theirs leave `callgate_test_*` databases, which the next run drops
 * once they are older than STALE_AFTER_MS (no run lasts that long).
 */
import pg from 'pg';

export const TEST_DATABASE_PREFIX = 'callgate_test_';
export const STALE_AFTER_MS = 6 * 3600_000;

/**
 * callgate_test_<epoch ms>_<pid>[_<job>]: the creation time is in the name, so age needs no catalogue
 * lookup; a run with several jobs (TEST_JOBS) has one database per job, told apart by the job number.
 */
export function testDatabaseName(now: Date, pid: number, job?: number): string {
  return `${TEST_DATABASE_PREFIX}${now.getTime()}_${pid}${job === undefined ? '' : `_${job}`}`;
}

/** When a database named by testDatabaseName was created, or undefined for any other name. */
export function createdAt(name: string): Date | undefined {
  const match = new RegExp(`^${TEST_DATABASE_PREFIX}(\\d{13})_\\d+(?:_\\d+)?$`).exec(name);
  return match ? new Date(Number(match[1])) : undefined;
}

/** The same server and credentials as url, on database `name`. */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function onMaintenanceDb<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  // CREATE/DROP DATABASE cannot run in the database they affect; `postgres` exists on every server.
  const client = new pg.Client({
    connectionString: withDatabase(url, 'postgres'),
    application_name: 'callgate-test-run',
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Drops the callgate_test_* databases created more than maxAgeMs before now; returns their names. */
export async function dropStaleTestDatabases(url: string, now: Date, maxAgeMs = STALE_AFTER_MS): Promise<string[]> {
  return onMaintenanceDb(url, async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [TEST_DATABASE_PREFIX],
    );
    const stale = rows
      .map((r) => r.datname)
      .filter((name) => {
        const created = createdAt(name);
        return created !== undefined && now.getTime() - created.getTime() > maxAgeMs;
      });
    for (const name of stale) await client.query(`DROP DATABASE IF EXISTS ${quoted(name)} WITH (FORCE)`);
    return stale;
  });
}

export interface RunDatabase {
  name: string;
  /** DATABASE_URL for the tests of this run. */
  url: string;
  drop(): Promise<void>;
}

/** Creates this run's database (or this run's job's, with job) on the server at url. */
export async function createRunDatabase(
  url: string,
  now = new Date(),
  pid = process.pid,
  job?: number,
): Promise<RunDatabase> {
  const name = testDatabaseName(now, pid, job);
  await onMaintenanceDb(url, (client) => client.query(`CREATE DATABASE ${quoted(name)}`));
  return {
    name,
    url: withDatabase(url, name),
    // FORCE: a test that leaked a connection must not keep the database alive.
    drop: () =>
      onMaintenanceDb(
        url,
        async (client) => void (await client.query(`DROP DATABASE IF EXISTS ${quoted(name)} WITH (FORCE)`)),
      ),
  };
}
