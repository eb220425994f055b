/**
 * Where a migration stands, kept on the target beside the data it describes, so a step and its record
 * commit together: a crash never leaves rows copied but unrecorded, or recorded but not copied.
 * One row per table: the watermark is the xmin of the last source snapshot the table was brought up to
 * (every transaction that committed after that snapshot has an xid at or above it). Drop the schema
 * db_migrate after the cut-over; the services never read it.
 */
import type { Queryable } from '@callgate/common';

export interface TableProgress {
  schema: string;
  table: string;
  /** Full 64-bit xid (pg_snapshot_xmin of the source snapshot), as a decimal string. */
  watermark: string;
  rowsCopied: number;
}

export async function ensureProgressTable(target: Queryable): Promise<void> {
  await target.exec(`
    CREATE SCHEMA IF NOT EXISTS db_migrate;
    CREATE TABLE IF NOT EXISTS db_migrate.progress (
      schema_name text NOT NULL,
      table_name text NOT NULL,
      watermark bigint NOT NULL,
      rows_copied bigint NOT NULL,
      source text NOT NULL,
      copied_at timestamptz NOT NULL DEFAULT now(),
      caught_up_at timestamptz,
      PRIMARY KEY (schema_name, table_name)
    )`);
}

export async function readProgress(target: Queryable, schema: string): Promise<Map<string, TableProgress>> {
  const exists = await target.query<{ ok: boolean }>("SELECT to_regclass('db_migrate.progress') IS NOT NULL AS ok");
  if (!exists.rows[0]?.ok) return new Map();
  const { rows } = await target.query<{ table_name: string; watermark: string; rows_copied: string }>(
    'SELECT table_name, watermark::text AS watermark, rows_copied FROM db_migrate.progress WHERE schema_name = $1',
    [schema],
  );
  return new Map(
    rows.map((r) => [
      r.table_name,
      { schema, table: r.table_name, watermark: r.watermark, rowsCopied: Number(r.rows_copied) },
    ]),
  );
}

export async function recordSnapshot(
  target: Queryable,
  entry: { schema: string; table: string; watermark: string; rows: number; source: string },
): Promise<void> {
  await target.query(
    `INSERT INTO db_migrate.progress (schema_name, table_name, watermark, rows_copied, source) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (schema_name, table_name) DO UPDATE SET watermark = EXCLUDED.watermark,
       rows_copied = EXCLUDED.rows_copied, source = EXCLUDED.source, copied_at = now(), caught_up_at = NULL`,
    [entry.schema, entry.table, entry.watermark, entry.rows, entry.source],
  );
}

export async function recordCatchUp(
  target: Queryable,
  entry: { schema: string; table: string; watermark: string; rows: number },
): Promise<void> {
  await target.query(
    `UPDATE db_migrate.progress SET watermark = $3, rows_copied = rows_copied + $4, caught_up_at = now()
      WHERE schema_name = $1 AND table_name = $2`,
    [entry.schema, entry.table, entry.watermark, entry.rows],
  );
}
