/**
 * The database a test runs against: PostgreSQL at DATABASE_URL when set (CI sets it); else a
 * PostgreSQL container when a Docker engine answers; else embedded PGlite. Tests that prove
 * concurrency must check `kind === 'postgres'`, since PGlite serializes everything.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createLogger, type Database, PgliteDatabase, PostgresDatabase } from '@callgate/common';

export interface TestDatabase {
  db: Database;
  /** Where it came from, for test names and skips. */
  source: 'DATABASE_URL' | 'testcontainers' | 'pglite';
  close(): Promise<void>;
}

const log = createLogger('test', 'silent');

function dockerAnswers(): boolean {
  // Asking the docker CLI costs seconds when no engine runs; without a socket or DOCKER_HOST there is none.
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export async function openTestDatabase(): Promise<TestDatabase> {
  if (process.env.DATABASE_URL) {
    const db = new PostgresDatabase({ url: process.env.DATABASE_URL, log, applicationName: 'callgate-test' });
    return { db, source: 'DATABASE_URL', close: () => db.close() };
  }
  if (dockerAnswers()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    const db = new PostgresDatabase({ url: container.getConnectionUri(), log });
    return {
      db,
      source: 'testcontainers',
      close: async () => {
        await db.close();
        await container.stop();
      },
    };
  }
  const db = await PgliteDatabase.open();
  return { db, source: 'pglite', close: () => db.close() };
}

/**
 * A database of the test's own: a fresh PostgreSQL database on DATABASE_URL's server (dropped by close),
 * else in-memory PGlite. For tests that act on every row of a table other test files write to meanwhile.
 * `connect` opens another pool on it, as a second replica would (PGlite: the same database again).
 */
export async function openIsolatedDatabase(
  prefix: string,
): Promise<{ db: Database; connect(): Database; close(): Promise<void>; url?: string }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = await PgliteDatabase.open();
    return { db, connect: () => db, close: () => db.close() };
  }
  const admin = new PostgresDatabase({ url, log, applicationName: 'callgate-test' });
  const name = uniqueSchema(prefix);
  await admin.query(`CREATE DATABASE ${name}`);
  const own = new URL(url);
  own.pathname = `/${name}`;
  const pools: Database[] = [];
  const connect = () => {
    const pool = new PostgresDatabase({ url: own.toString(), log, applicationName: 'callgate-test' });
    pools.push(pool);
    return pool;
  };
  return {
    db: connect(),
    connect,
    url: own.toString(),
    close: async () => {
      await Promise.all(pools.map((p) => p.close()));
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.close();
    },
  };
}

/** A schema name no other test uses, so tests share one database without touching each other. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}
