/**
 * Bringing a copied target up to date with a source that kept taking writes. Change detection is by xmin,
 * for every table alike: each row version carries the xid of the transaction that wrote it, and every
 * transaction the previous snapshot did not see has an xid at or above that snapshot's xmin (the watermark).
 * Application columns cannot promise that: calls.updated_at is set from the service's clock, is not bumped by
 * every UPDATE (markMirrored), and a transaction that started before the snapshot commits rows stamped earlier
 * than it; an identity key such as credits.entries.entry_id is taken at INSERT but committed in any order, so
 * "entry_id > the highest copied" skips an entry whose transaction was still open. xmin has neither hole.
 * Deletes leave no row behind, so they are found by keys: after the upserts the target holds every source
 * row, and when it holds more, the extra keys are the deleted ones.
 * The round reads one source snapshot and writes in one target transaction with the new watermarks, so it
 * is all or nothing, and a repeated round rewrites nothing unchanged.
 */
import type { Database, Queryable } from '@callgate/common';
import { MigrateError } from './connect.js';
import { readProgress, recordCatchUp, type TableProgress } from './progress.js';
import { syncSequences } from './sequences.js';
import { beginSourceSnapshot } from './snapshot.js';
import { changedSince, qualified, SESSION_SETTINGS, XID_MODULUS } from './sql.js';
import type { TableInfo } from './tables.js';
import { deleteMissing, transferRows } from './transfer.js';

export interface CatchUpTableReport {
  table: string;
  /** changed-rows (by xmin, upserted), insert-only (ledger: inserted, never updated), recopied (no key: whole table). */
  strategy: 'changed-rows' | 'insert-only' | 'recopied';
  read: number;
  written: number;
  deleted: number;
}

export interface CatchUpOptions {
  source: Database;
  target: Database;
  tables: ReadonlyMap<string, readonly TableInfo[]>;
  batchSize: number;
  onTable?: (report: CatchUpTableReport) => void;
}

async function count(db: Queryable, table: TableInfo): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(table.schema, table.name)}`);
  return Number(rows[0]?.n);
}

/** The watermark as the 32-bit xid that row xmins are compared with; validated, since it is inlined into SQL. */
function watermark32(progress: TableProgress): string {
  return (BigInt(progress.watermark) % XID_MODULUS).toString();
}

async function round(
  tx: Queryable,
  ttx: Queryable,
  plan: { table: TableInfo; progress: TableProgress }[],
  options: CatchUpOptions & { watermark: string; deletesFirst: boolean },
): Promise<CatchUpTableReport[]> {
  for (const setting of SESSION_SETTINGS) await ttx.exec(setting);
  const deletable = (t: TableInfo) => t.primaryKey.length > 0 && !t.insertOnly;
  const deleted = new Map<string, number>();
  if (options.deletesFirst) {
    // Children before parents, so a foreign key never points at a deleted row.
    for (const { table } of [...plan].reverse()) {
      if (deletable(table))
        deleted.set(table.name, await deleteMissing({ source: tx, target: ttx, table, batchSize: options.batchSize }));
    }
  }
  const reports: CatchUpTableReport[] = [];
  for (const { table, progress } of plan) {
    const name = `${table.schema}.${table.name}`;
    let report: CatchUpTableReport;
    if (table.primaryKey.length === 0) {
      // Without a key a changed row cannot be matched with its old copy: the table is copied whole again.
      if (table.insertOnly)
        throw new MigrateError(`${name} is insert-only and has no primary key: it cannot be caught up`);
      const removed = await ttx.query(`DELETE FROM ${qualified(table.schema, table.name)}`);
      const stats = await transferRows({
        source: tx,
        target: ttx,
        table,
        mode: 'insert',
        batchSize: options.batchSize,
      });
      report = { table: name, strategy: 'recopied', ...stats, deleted: removed.rowCount };
    } else {
      const stats = await transferRows({
        source: tx,
        target: ttx,
        table,
        mode: table.insertOnly ? 'insert-only' : 'upsert',
        batchSize: options.batchSize,
        where: changedSince(watermark32(progress)),
      });
      report = { table: name, strategy: table.insertOnly ? 'insert-only' : 'changed-rows', ...stats, deleted: 0 };
    }
    reports.push(report);
  }
  for (const report of [...reports].reverse()) {
    const table = plan.find((p) => `${p.table.schema}.${p.table.name}` === report.table)?.table as TableInfo;
    if (report.strategy === 'recopied') continue;
    report.deleted = deleted.get(table.name) ?? 0;
    const [onSource, onTarget] = [await count(tx, table), await count(ttx, table)];
    if (onTarget === onSource) continue;
    if (onTarget < onSource) {
      throw new MigrateError(
        `${report.table} has ${onTarget} rows on the target but ${onSource} on the source after catch-up: rows were ` +
          'removed on the target outside db-migrate. Run snapshot --resume to reconcile it',
      );
    }
    if (!deletable(table)) {
      throw new MigrateError(
        `${report.table} has ${onTarget - onSource} rows on the target the source does not, and refuses DELETE: reconcile it by hand`,
      );
    }
    report.deleted += await deleteMissing({ source: tx, target: ttx, table, batchSize: options.batchSize });
  }
  for (const report of reports) {
    const { table } = plan.find((p) => `${p.table.schema}.${p.table.name}` === report.table) as { table: TableInfo };
    await recordCatchUp(ttx, {
      schema: table.schema,
      table: table.name,
      watermark: options.watermark,
      rows: report.written,
    });
  }
  for (const schema of options.tables.keys()) await syncSequences(options.source, ttx, schema);
  return reports;
}

export async function catchUp(options: CatchUpOptions): Promise<CatchUpTableReport[]> {
  const plan: { table: TableInfo; progress: TableProgress }[] = [];
  const missing: string[] = [];
  for (const [schema, tables] of options.tables) {
    const progress = await readProgress(options.target, schema);
    for (const table of tables) {
      const entry = progress.get(table.name);
      if (entry) plan.push({ table, progress: entry });
      else missing.push(`${schema}.${table.name}`);
    }
  }
  if (missing.length) {
    throw new MigrateError(`no snapshot recorded for ${missing.join(', ')} on the target: run snapshot first`);
  }
  const reports = await options.source.transaction(
    async (tx) => {
      const watermark = await beginSourceSnapshot(tx);
      try {
        return await options.target.transaction((ttx) =>
          round(tx, ttx, plan, { ...options, watermark, deletesFirst: false }),
        );
      } catch (error) {
        // A row deleted on the source and another inserted with its unique value (not its key) collide when
        // upserts run before deletes: run the round again with every deletion first.
        if ((error as { code?: string }).code !== '23505') throw error;
        return options.target.transaction((ttx) => round(tx, ttx, plan, { ...options, watermark, deletesFirst: true }));
      }
    },
    { isolation: 'repeatable read' },
  );
  for (const report of reports) options.onTable?.(report);
  return reports;
}
