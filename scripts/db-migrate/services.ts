/**
 * The schemas db-migrate moves, each with its owning service's migrations folder. The target's schema is
 * made by those migrations through the services' own runner, so it is exactly what the services expect;
 * the source must be at the same migration versions, or the copied rows would not fit.
 */
import { fileURLToPath } from 'node:url';
import { createLogger, type Database, migrate, readMigrations } from '@callgate/common';
import { MigrateError } from './connect.js';

const dir = (service: string) => fileURLToPath(new URL(`../../services/${service}/migrations/`, import.meta.url));

/** Schema → migrations folder, in the order they are processed (no foreign keys cross schemas). */
export const SERVICE_SCHEMAS: Readonly<Record<string, string>> = {
  credits: dir('user-credit'),
  calls: dir('call'),
  sheets: dir('sheets-sync'),
  poller: dir('poller'),
};

export function selectSchemas(requested: string | undefined): string[] {
  if (!requested) return Object.keys(SERVICE_SCHEMAS);
  const names = requested
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(n in SERVICE_SCHEMAS));
  if (unknown.length || names.length === 0) {
    throw new MigrateError(
      `unknown schema ${unknown.join(', ') || '(none given)'}: choose from ${Object.keys(SERVICE_SCHEMAS).join(', ')}`,
    );
  }
  return [...new Set(names)];
}

function migrationsOf(schema: string) {
  return readMigrations(SERVICE_SCHEMAS[schema] as string);
}

/** Applies each schema's pending migrations on the target with the services' runner. */
export async function migrateTarget(target: Database, schemas: readonly string[]): Promise<void> {
  const log = createLogger('db-migrate', 'warn');
  for (const schema of schemas) await migrate(target, schema, migrationsOf(schema), log);
}

/** Refuses a source whose applied migrations differ from this code's: its tables would not match the target's. */
export async function checkSourceVersions(source: Database, schemas: readonly string[]): Promise<void> {
  for (const schema of schemas) {
    const expected = migrationsOf(schema).map((m) => m.version);
    const present = await source.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [
      `${schema}.schema_migrations`,
    ]);
    if (!present.rows[0]?.ok) {
      throw new MigrateError(`the source has no ${schema}.schema_migrations: is it a callgate database?`);
    }
    const { rows } = await source.query<{ version: number }>(
      `SELECT version FROM ${schema}.schema_migrations ORDER BY version`,
    );
    const applied = rows.map((r) => r.version);
    if (applied.join(',') !== expected.join(',')) {
      throw new MigrateError(
        `source ${schema} has migrations [${applied.join(', ')}] but this code has [${expected.join(', ')}]: ` +
          'run the same release against both (deploy it on the source first) before migrating',
      );
    }
  }
}
