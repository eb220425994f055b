import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { assertIdentifier, type Database } from './database.js';

export interface Migration {
  /** From the file name: 0001_create_calls.sql → 1. */
  version: number;
  name: string;
  sql: string;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads NNNN_name.sql files in version order. A file that does not follow the pattern is an error, not skipped. */
export function readMigrations(dir: string): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.sql'));
  const migrations = files.map((file) => {
    const match = FILE.exec(file);
    if (!match) throw new Error(`migration file ${file} in ${dir} must be named NNNN_name.sql`);
    return { version: Number(match[1]), name: match[2] as string, sql: readFileSync(path.join(dir, file), 'utf8') };
  });
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]?.version === migrations[i - 1]?.version) {
      throw new Error(`two migrations in ${dir} share version ${migrations[i]?.version}`);
    }
  }
  return migrations;
}

/**
 * Applies a service's pending migrations to its own schema, in order, each recorded in
 * <schema>.schema_migrations. All of it runs in one transaction under an advisory lock keyed by
 * the schema, so replicas starting together apply each migration exactly once.
 */
export async function migrate(
  db: Database,
  schema: string,
  migrations: readonly Migration[],
  log: Logger,
): Promise<{ applied: number[] }> {
  assertIdentifier(schema);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`callgate.migrate.${schema}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = new Set(
      (await tx.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`)).rows.map(
        (r) => r.version,
      ),
    );
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
      log.info({ schema, version: m.version, migration: m.name }, 'migration applied');
    }
    return { applied };
  });
}
