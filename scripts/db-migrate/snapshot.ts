/**
 * The first copy: every table of the chosen schemas read in ONE repeatable-read, read-only transaction on the
 * source, so the copy is one consistent moment (a ledger entry never arrives without its reservation). The
 * snapshot's xmin becomes each table's watermark: every transaction not in the copy has an xid at or above
 * it, which is what the catch-up looks for. Each table is written in its own target transaction together with
 * its progress row, so an interrupted run leaves whole tables; a re-run skips the recorded ones.
 */
import type { Database, Queryable } from '@callgate/common';
import { MigrateError } from './connect.js';
import { readProgress, recordSnapshot } from './progress.js';
import { syncSequences } from './sequences.js';
import { qualified, SESSION_SETTINGS } from './sql.js';
import type { TableInfo } from './tables.js';
import { deleteMissing, transferRows } from './transfer.js';

export interface TableReport {
  table: string;
  /** What happened: copied, skipped (already recorded), reconciled (--resume over existing rows). */
  action: 'copied' | 'skipped' | 'reconciled';
  read: number;
  written: number;
  deleted: number;
  ms: number;
}

export interface SnapshotOptions {
  source: Database;
  target: Database;
  /** Tables per schema, from discoverTables on the source. */
  tables: ReadonlyMap<string, readonly TableInfo[]>;
  batchSize: number;
  /** Accept target tables that already hold rows without a progress record: reconcile them with the source. */
  resume: boolean;
  /** Redacted source URL, kept in the progress record. */
  sourceLabel: string;
  onTable?: (report: TableReport) => void;
}

/** The source transaction's snapshot xmin as a full 64-bit xid. */
export async function snapshotXmin(tx: Queryable): Promise<string> {
  const { rows } = await tx.query<{ xmin: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
  return rows[0]?.xmin as string;
}

/** Starts the source transaction: repeatable read so every statement sees the same snapshot. */
export async function beginSourceSnapshot(tx: Queryable): Promise<string> {
  await tx.exec('SET TRANSACTION READ ONLY');
  for (const setting of SESSION_SETTINGS) await tx.exec(setting);
  return snapshotXmin(tx);
}

async function countRows(db: Queryable, table: TableInfo): Promise<number> {
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${qualified(table.schema, table.name)}`);
  return Number(rows[0]?.n);
}

export async function snapshotCopy(options: SnapshotOptions): Promise<TableReport[]> {
  const { source, target } = options;
  // Decide everything before copying anything: a refusal must not leave half a copy behind.
  const plan: { table: TableInfo; existing: number; recorded: boolean }[] = [];
  for (const [schema, tables] of options.tables) {
    const progress = await readProgress(target, schema);
    for (const table of tables) {
      plan.push({ table, existing: await countRows(target, table), recorded: progress.has(table.name) });
    }
  }
  const occupied = plan.filter((p) => !p.recorded && p.existing > 0);
  if (occupied.length > 0 && !options.resume) {
    throw new MigrateError(
      `the target is not empty: ${occupied.map((p) => `${p.table.schema}.${p.table.name} (${p.existing} rows)`).join(', ')} ` +
        'hold rows no db-migrate snapshot recorded. Point --target at an empty database, or pass --resume to ' +
        'reconcile those tables with the source (rows upserted, rows missing on the source deleted)',
    );
  }
  const reports: TableReport[] = [];
  await source.transaction(
    async (tx) => {
      const watermark = await beginSourceSnapshot(tx);
      for (const { table, existing, recorded } of plan) {
        const name = `${table.schema}.${table.name}`;
        if (recorded) {
          const report: TableReport = { table: name, action: 'skipped', read: 0, written: 0, deleted: 0, ms: 0 };
          reports.push(report);
          options.onTable?.(report);
          continue;
        }
        const started = performance.now();
        const report = await target.transaction(async (ttx) => {
          for (const setting of SESSION_SETTINGS) await ttx.exec(setting);
          const reconcile = existing > 0;
          if (reconcile && table.primaryKey.length === 0) {
            throw new MigrateError(`${name} already holds rows and has no primary key: empty it on the target first`);
          }
          const mode = !reconcile ? 'insert' : table.insertOnly ? 'insert-only' : 'upsert';
          const stats = await transferRows({ source: tx, target: ttx, table, mode, batchSize: options.batchSize });
          let deleted = 0;
          if (reconcile && (await countRows(ttx, table)) !== stats.read) {
            if (table.insertOnly) {
              throw new MigrateError(`${name} is insert-only and holds rows the source does not: remove them by hand`);
            }
            deleted = await deleteMissing({ source: tx, target: ttx, table, batchSize: options.batchSize });
          }
          await recordSnapshot(ttx, {
            schema: table.schema,
            table: table.name,
            watermark,
            rows: stats.read,
            source: options.sourceLabel,
          });
          return {
            table: name,
            action: reconcile ? ('reconciled' as const) : ('copied' as const),
            read: stats.read,
            written: stats.written,
            deleted,
            ms: Math.round(performance.now() - started),
          };
        });
        reports.push(report);
        options.onTable?.(report);
      }
    },
    { isolation: 'repeatable read' },
  );
  for (const schema of options.tables.keys()) await syncSequences(source, target, schema);
  return reports;
}
