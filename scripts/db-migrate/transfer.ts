/**
 * Moving rows from the source to the target. pg-copy-streams is not a dependency, so instead of COPY the
 * source is read through one server-side cursor (a single scan inside the caller's snapshot transaction,
 * no OFFSET paging) and the target is written with one multi-row INSERT per batch. Each row travels as a
 * JSON array of its columns' text forms and is cast back on the target: the same text round trip COPY
 * uses, so timestamps keep their microseconds, bigints and numerics their digits, and a jsonb 'null'
 * stays distinct from SQL NULL.
 */
import type { Queryable } from '@callgate/common';
import { MigrateError } from './connect.js';
import { ident, qualified, rowAsJsonText, rowText } from './sql.js';
import { type TableInfo, writableColumns } from './tables.js';

/**
 * How rows meet rows already on the target:
 * - insert: the target table is empty (a first snapshot); a duplicate is an error.
 * - upsert: by primary key; a row whose text is unchanged is not rewritten, so re-runs write nothing.
 * - insert-only: tables that refuse UPDATE (the ledger); an existing row is kept, and must equal the source's.
 */
export type WriteMode = 'insert' | 'upsert' | 'insert-only';

export interface TransferStats {
  /** Rows read from the source. */
  read: number;
  /** Rows inserted or changed on the target. */
  written: number;
}

let cursorSeq = 0;

/** Runs `select` (one text column `r`) as a cursor on the source, handing batches of `r` to onBatch. */
export async function streamCursor(
  source: Queryable,
  select: string,
  batchSize: number,
  onBatch: (rows: string[]) => Promise<void>,
): Promise<void> {
  const cursor = `db_migrate_cursor_${++cursorSeq}`;
  await source.exec(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${select}`);
  try {
    for (;;) {
      const { rows } = await source.query<{ r: string }>(`FETCH FORWARD ${batchSize} FROM ${cursor}`);
      if (rows.length === 0) break;
      await onBatch(rows.map((row) => row.r));
      if (rows.length < batchSize) break;
    }
  } finally {
    await source.exec(`CLOSE ${cursor}`);
  }
}

/** SELECT … cast back from the JSON batch in $1, as columns named like the table's. */
function fromBatch(table: TableInfo): string {
  const columns = writableColumns(table);
  const casts = columns.map((c, i) => `(x.r->>${i})::${c.type} AS ${ident(c.name)}`).join(', ');
  return `SELECT ${casts} FROM jsonb_array_elements($1::jsonb) AS x(r)`;
}

export function insertStatement(table: TableInfo, mode: WriteMode): string {
  const columns = writableColumns(table);
  const names = columns.map((c) => ident(c.name)).join(', ');
  const override = columns.some((c) => c.identityAlways) ? ' OVERRIDING SYSTEM VALUE' : '';
  const head = `INSERT INTO ${qualified(table.schema, table.name)} AS t (${names})${override} ${fromBatch(table)}`;
  if (mode === 'insert') return head;
  if (table.primaryKey.length === 0) {
    throw new MigrateError(`${table.schema}.${table.name} has no primary key: it can only be copied whole`);
  }
  const conflict = `ON CONFLICT (${table.primaryKey.map(ident).join(', ')})`;
  const updatable = columns.filter((c) => !table.primaryKey.includes(c.name) && !c.identityAlways).map((c) => c.name);
  if (mode === 'insert-only' || updatable.length === 0) return `${head} ${conflict} DO NOTHING`;
  const set = updatable.map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ');
  return `${head} ${conflict} DO UPDATE SET ${set} WHERE ${rowText(updatable, 't')} IS DISTINCT FROM ${rowText(updatable, 'EXCLUDED')}`;
}

/** Rows of the batch that exist on the target with different content (an insert-only table cannot take them). */
function conflictCheck(table: TableInfo): string {
  const names = writableColumns(table).map((c) => c.name);
  const join = table.primaryKey.map((k) => `s.${ident(k)} = t.${ident(k)}`).join(' AND ');
  return `SELECT s_keys FROM (SELECT ${rowText(table.primaryKey, 's')} AS s_keys, ${rowText(names, 's')} AS s_row, ${rowText(names, 't')} AS t_row
            FROM (${fromBatch(table)}) s JOIN ${qualified(table.schema, table.name)} t ON ${join}) d
           WHERE s_row IS DISTINCT FROM t_row LIMIT 5`;
}

/**
 * Copies the rows of `table` that `where` selects (inside the source's snapshot transaction) into the
 * target (inside the target's transaction).
 */
export async function transferRows(options: {
  source: Queryable;
  target: Queryable;
  table: TableInfo;
  mode: WriteMode;
  batchSize: number;
  /** A condition on the source rows (trusted SQL built by db-migrate), e.g. the catch-up's changed-since test. */
  where?: string;
}): Promise<TransferStats> {
  const { table, mode } = options;
  const columns = writableColumns(table).map((c) => c.name);
  const select = `SELECT ${rowAsJsonText(columns)} AS r FROM ${qualified(table.schema, table.name)} t${
    options.where ? ` WHERE ${options.where}` : ''
  }`;
  const insert = insertStatement(table, mode);
  const check = mode === 'insert-only' ? conflictCheck(table) : undefined;
  const stats: TransferStats = { read: 0, written: 0 };
  await streamCursor(options.source, select, options.batchSize, async (rows) => {
    const batch = `[${rows.join(',')}]`;
    const result = await options.target.query(insert, [batch]);
    stats.read += rows.length;
    stats.written += result.rowCount;
    if (check && result.rowCount < rows.length) {
      const differing = await options.target.query<{ s_keys: string }>(check, [batch]);
      if (differing.rowCount > 0) {
        throw new MigrateError(
          `${table.schema}.${table.name} is insert-only, but rows ${differing.rows.map((r) => r.s_keys).join(', ')} ` +
            'differ between source and target: it was changed on one side (a manual fix?). Reconcile it by hand',
        );
      }
    }
  });
  return stats;
}

/**
 * Deletes target rows whose primary key the source (in its snapshot) no longer has. The source's keys are
 * streamed into a temporary table on the target, so nothing depends on both servers sorting text alike.
 */
export async function deleteMissing(options: {
  source: Queryable;
  target: Queryable;
  table: TableInfo;
  batchSize: number;
}): Promise<number> {
  const { table } = options;
  const keyColumns = table.primaryKey.map((k) => {
    const column = table.columns.find((c) => c.name === k);
    if (!column) throw new MigrateError(`${table.schema}.${table.name}: primary key column ${k} not found`);
    return column;
  });
  const keys = 'db_migrate_source_keys';
  await options.target.exec(`DROP TABLE IF EXISTS pg_temp.${keys};
    CREATE TEMP TABLE ${keys} ON COMMIT DROP AS SELECT ${keyColumns.map((c) => ident(c.name)).join(', ')}
      FROM ${qualified(table.schema, table.name)} WITH NO DATA`);
  const casts = keyColumns.map((c, i) => `(x.r->>${i})::${c.type}`).join(', ');
  const select = `SELECT ${rowAsJsonText(table.primaryKey)} AS r FROM ${qualified(table.schema, table.name)} t`;
  await streamCursor(options.source, select, options.batchSize * 10, async (rows) => {
    await options.target.query(
      `INSERT INTO pg_temp.${keys} SELECT ${casts} FROM jsonb_array_elements($1::jsonb) AS x(r)`,
      [`[${rows.join(',')}]`],
    );
  });
  await options.target.exec(`ANALYZE pg_temp.${keys}`);
  const match = table.primaryKey.map((k) => `k.${ident(k)} = t.${ident(k)}`).join(' AND ');
  const deleted = await options.target.query(
    `DELETE FROM ${qualified(table.schema, table.name)} t WHERE NOT EXISTS (SELECT 1 FROM pg_temp.${keys} k WHERE ${match})`,
  );
  await options.target.exec(`DROP TABLE pg_temp.${keys}`);
  return deleted.rowCount;
}
