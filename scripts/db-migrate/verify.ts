/**
 * Are the two databases equal? Per table: the row count and a checksum computed in SQL on each side from
 * every row's text (columns by name, the same session settings on both sides). The checksum sums two 60-bit
 * slices of each row's md5, so it needs no ORDER BY (collations may sort text differently on the two
 * servers) and no whole-table string (which would hit the 1 GB text limit). When a table differs and is small
 * enough, the differing keys are listed. Meaningful once writes have stopped: during the sync period the
 * source moves on between the two reads.
 */
import type { Database, Queryable } from '@callgate/common';
import { qualified, rowText, SESSION_SETTINGS } from './sql.js';
import type { TableInfo } from './tables.js';

export interface TableVerdict {
  table: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum: string;
  targetChecksum: string;
  equal: boolean;
  /** Up to `maxKeys` primary keys that differ: missing on the target, extra on the target, or changed. */
  keys?: { missingOnTarget: string[]; extraOnTarget: string[]; changed: string[] };
}

export interface VerifyOptions {
  source: Database;
  target: Database;
  tables: ReadonlyMap<string, readonly TableInfo[]>;
  /** List differing keys of a differing table only up to this many rows (it reads every key into memory). */
  detailLimit?: number;
  maxKeys?: number;
}

function columnsOf(table: TableInfo): string[] {
  return table.columns.map((c) => c.name).sort();
}

async function checksum(db: Database, table: TableInfo): Promise<{ rows: number; checksum: string }> {
  const hash = `md5(${rowText(columnsOf(table))})`;
  return db.transaction(async (tx) => {
    for (const setting of SESSION_SETTINGS) await tx.exec(setting);
    const { rows } = await tx.query<{ n: string; a: string | null; b: string | null }>(
      `SELECT count(*) AS n,
              sum(('x' || substr(h, 1, 15))::bit(60)::bigint)::text AS a,
              sum(('x' || substr(h, 16, 15))::bit(60)::bigint)::text AS b
         FROM (SELECT ${hash} AS h FROM ${qualified(table.schema, table.name)} t) r`,
    );
    const row = rows[0] as { n: string; a: string | null; b: string | null };
    return { rows: Number(row.n), checksum: `${row.n}:${row.a ?? 0}:${row.b ?? 0}` };
  });
}

async function rowHashes(db: Database, table: TableInfo): Promise<Map<string, string>> {
  return db.transaction(async (tx: Queryable) => {
    for (const setting of SESSION_SETTINGS) await tx.exec(setting);
    const { rows } = await tx.query<{ k: string; h: string }>(
      `SELECT ${rowText(table.primaryKey)} AS k, md5(${rowText(columnsOf(table))}) AS h FROM ${qualified(table.schema, table.name)} t`,
    );
    return new Map(rows.map((r) => [r.k, r.h]));
  });
}

async function differingKeys(options: VerifyOptions, table: TableInfo, max: number) {
  const [source, target] = [await rowHashes(options.source, table), await rowHashes(options.target, table)];
  const missingOnTarget: string[] = [];
  const changed: string[] = [];
  for (const [key, hash] of source) {
    const other = target.get(key);
    if (other === undefined) missingOnTarget.push(key);
    else if (other !== hash) changed.push(key);
  }
  const extraOnTarget = [...target.keys()].filter((k) => !source.has(k));
  return {
    missingOnTarget: missingOnTarget.slice(0, max),
    extraOnTarget: extraOnTarget.slice(0, max),
    changed: changed.slice(0, max),
  };
}

export async function verify(options: VerifyOptions): Promise<TableVerdict[]> {
  const verdicts: TableVerdict[] = [];
  for (const tables of options.tables.values()) {
    for (const table of tables) {
      const [s, t] = [await checksum(options.source, table), await checksum(options.target, table)];
      const verdict: TableVerdict = {
        table: `${table.schema}.${table.name}`,
        sourceRows: s.rows,
        targetRows: t.rows,
        sourceChecksum: s.checksum,
        targetChecksum: t.checksum,
        equal: s.checksum === t.checksum,
      };
      const small = Math.max(s.rows, t.rows) <= (options.detailLimit ?? 100_000);
      if (!verdict.equal && small && table.primaryKey.length > 0) {
        verdict.keys = await differingKeys(options, table, options.maxKeys ?? 10);
      }
      verdicts.push(verdict);
    }
  }
  return verdicts;
}
