/**
 * The shared PostgreSQL and Redis of this machine, stopped and started for the fault runs. Other
 * engineers' tests use them, so every stop is bounded and `ensureInfraUp` (called in a finally)
 * brings both back whatever happened.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The installed cluster version (the one directory under /etc/postgresql). */
function postgresVersion(): string {
  const versions = readdirSync('/etc/postgresql').sort();
  const version = versions.at(-1);
  if (!version) throw new Error('no PostgreSQL cluster under /etc/postgresql');
  return version;
}

async function ok(file: string, args: string[]): Promise<boolean> {
  try {
    await run(file, args, { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export const postgresUp = () => ok('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-t', '2']);
export const redisUp = () => ok('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping']);

/** Restarts PostgreSQL (every connection drops; the services' pools must reconnect). */
export async function restartPostgres(): Promise<void> {
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', postgresVersion(), 'main', 'restart'], { timeout: 60_000 });
}

export async function stopRedis(): Promise<void> {
  // nosave: the fault is an outage, not a persistence test; CI's Redis keeps nothing on disk anyway.
  await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave'], { timeout: 10_000 }).catch(
    () => undefined, // the connection closes as Redis exits, which redis-cli may report as an error
  );
}

export async function startRedis(): Promise<void> {
  if (await redisUp()) return;
  await run(
    'redis-server',
    [
      '--daemonize',
      'yes',
      '--bind',
      '127.0.0.1',
      '-::1',
      '--port',
      '6379',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      '/var/lib/redis',
      '--logfile',
      '/var/log/redis/ci.log',
    ],
    { timeout: 10_000 },
  );
  for (let i = 0; i < 50 && !(await redisUp()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** Both back up, whatever a fault left behind; throws if one cannot be brought back. */
export async function ensureInfraUp(): Promise<void> {
  if (!(await postgresUp())) {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', postgresVersion(), 'main', 'start'], {
      timeout: 60_000,
    }).catch(() => undefined);
  }
  await startRedis();
  const [pg, redis] = [await postgresUp(), await redisUp()];
  if (!pg || !redis)
    throw new Error(`infrastructure not restored: PostgreSQL ${pg ? 'up' : 'DOWN'}, Redis ${redis ? 'up' : 'DOWN'}`);
}
