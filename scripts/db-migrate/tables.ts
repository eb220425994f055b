/**
 * What a schema holds, read from the catalog: its tables in foreign-key order, each table's columns,
 * primary key, and whether it may be updated on the target. Nothing is hard-coded per table, so a table a
 * later migration adds is copied without touching db-migrate.
 */
import type { Queryable } from '@callgate/common';
import { MigrateError } from './connect.js';

export interface Column {
  name: string;
  /** format_type(): a type name that casts, e.g. `timestamp with time zone`, `text[]`. */
  type: string;
  /** GENERATED ALWAYS AS IDENTITY: inserted with OVERRIDING SYSTEM VALUE, never updated. */
  identityAlways: boolean;
  /** GENERATED … STORED: computed by the target, never written. */
  generated: boolean;
}

export interface TableInfo {
  schema: string;
  name: string;
  columns: Column[];
  /** Primary key column names in key order; empty when the table has none. */
  primaryKey: string[];
  /**
   * A row trigger guards UPDATE or DELETE (credits.entries refuses both: the ledger is append-only).
   * Such a table is written insert-only: updating it on the target would fire the guard.
   */
  insertOnly: boolean;
  /** Tables of the same schema this one references (inserted before it, deleted after it). */
  references: string[];
}

/** The bookkeeping table of the migration runner: recreated by the migrations on the target, never copied. */
const SKIPPED = new Set(['schema_migrations']);

export async function discoverTables(db: Queryable, schema: string): Promise<TableInfo[]> {
  const tables = await db.query<{ oid: number; name: string }>(
    `SELECT c.oid::int AS oid, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`,
    [schema],
  );
  const result: TableInfo[] = [];
  for (const { oid, name } of tables.rows) {
    if (SKIPPED.has(name)) continue;
    const columns = await db.query<{ name: string; type: string; identity: string; generated: string }>(
      `SELECT attname AS name, format_type(atttypid, atttypmod) AS type, attidentity AS identity, attgenerated AS generated
         FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [oid],
    );
    const pk = await db.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`,
      [oid],
    );
    // tgtype bits: 1 = row-level, 8 = DELETE, 16 = UPDATE (pg_trigger.h). Internal triggers (foreign keys) are not guards.
    const guards = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal AND tgtype & 1 = 1 AND tgtype & 24 <> 0',
      [oid],
    );
    const refs = await db.query<{ name: string }>(
      `SELECT DISTINCT r.relname AS name FROM pg_constraint f JOIN pg_class r ON r.oid = f.confrelid
        WHERE f.conrelid = $1 AND f.contype = 'f' AND f.confrelid <> f.conrelid AND r.relnamespace = f.connamespace`,
      [oid],
    );
    result.push({
      schema,
      name,
      columns: columns.rows.map((c) => ({
        name: c.name,
        type: c.type,
        identityAlways: c.identity === 'a',
        generated: c.generated !== '',
      })),
      primaryKey: pk.rows.map((r) => r.name),
      insertOnly: Number(guards.rows[0]?.n) > 0,
      references: refs.rows.map((r) => r.name).filter((r) => !SKIPPED.has(r)),
    });
  }
  return inForeignKeyOrder(result);
}

/** Parents before children, so inserts never wait for a row that is not there yet. */
export function inForeignKeyOrder(tables: readonly TableInfo[]): TableInfo[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: TableInfo[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (table: TableInfo, path: string[]) => {
    if (state.get(table.name) === 'done') return;
    if (state.get(table.name) === 'visiting') {
      throw new MigrateError(`foreign keys form a cycle in ${table.schema}: ${[...path, table.name].join(' → ')}`);
    }
    state.set(table.name, 'visiting');
    for (const ref of table.references) {
      const parent = byName.get(ref);
      if (parent) visit(parent, [...path, table.name]);
    }
    state.set(table.name, 'done');
    ordered.push(table);
  };
  for (const table of tables) visit(table, []);
  return ordered;
}

/** Columns written on the target (generated ones are computed there). */
export function writableColumns(table: TableInfo): Column[] {
  return table.columns.filter((c) => !c.generated);
}

/**
 * The target must have the same tables with the same column names and types as the source: both were
 * made by the same migrations, so a difference means someone changed one of them by hand.
 */
export function compareShapes(source: readonly TableInfo[], target: readonly TableInfo[]): string[] {
  const problems: string[] = [];
  const targetByName = new Map(target.map((t) => [t.name, t]));
  for (const s of source) {
    const t = targetByName.get(s.name);
    if (!t) {
      problems.push(`${s.schema}.${s.name} is missing on the target`);
      continue;
    }
    const shape = (table: TableInfo) =>
      table.columns
        .map((c) => `${c.name} ${c.type}`)
        .sort()
        .join(', ');
    if (shape(s) !== shape(t))
      problems.push(`${s.schema}.${s.name} columns differ: source (${shape(s)}) target (${shape(t)})`);
  }
  for (const t of target) {
    if (!source.some((s) => s.name === t.name)) problems.push(`${t.schema}.${t.name} exists only on the target`);
  }
  return problems;
}
