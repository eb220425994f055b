import { fileURLToPath } from 'node:url';
import { type Database, type Logger, migrate, readMigrations } from '@callgate/common';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/**
 * Applies the migrations to `schema`. They name the schema `sheets`; another schema (tests running side
 * by side on one PostgreSQL) gets the same tables under its own name.
 */
export async function migrateSheetsSchema(db: Database, schema: string, log: Logger): Promise<void> {
  await migrate(
    db,
    schema,
    readMigrations(MIGRATIONS).map((m) => ({ ...m, sql: m.sql.replace(/\bsheets(?=[.;\s])/g, schema) })),
    log,
  );
}
