/**
 * The three commands as functions (the CLI parses arguments and prints; tests call these directly):
 * open both ends, bring the target's schemas to the code's migrations, read the tables, then copy,
 * catch up, or compare.
 */
import type { Database } from '@callgate/common';
import { type CatchUpTableReport, catchUp } from './catch-up.js';
import { MigrateError, openEnd, redact } from './connect.js';
import { ensureProgressTable } from './progress.js';
import { sequencesBehind } from './sequences.js';
import { checkSourceVersions, migrateTarget, selectSchemas } from './services.js';
import { snapshotCopy, type TableReport } from './snapshot.js';
import { compareShapes, discoverTables, type TableInfo } from './tables.js';
import { type TableVerdict, verify } from './verify.js';

export interface CommandOptions {
  source: string;
  target: string;
  /** Comma-separated schemas (credits, calls, sheets, poller); all when absent. */
  schemas?: string | undefined;
  batchSize?: number;
  resume?: boolean;
  onTable?: (report: TableReport | CatchUpTableReport) => void;
}

interface Ends {
  source: Database;
  target: Database;
  tables: Map<string, TableInfo[]>;
  /** Tables missing or shaped differently on the target (fatal to copying; a difference to verify). */
  shapeProblems: string[];
}

async function withEnds<T>(
  options: CommandOptions,
  prepareTarget: boolean,
  fn: (ends: Ends) => Promise<T>,
): Promise<T> {
  const schemas = selectSchemas(options.schemas);
  const source = await openEnd('source', options.source);
  let target: Database | undefined;
  try {
    target = await openEnd('target', options.target);
    await checkSourceVersions(source, schemas);
    if (prepareTarget) {
      await migrateTarget(target, schemas);
      await ensureProgressTable(target);
    }
    const tables = new Map<string, TableInfo[]>();
    const problems: string[] = [];
    for (const schema of schemas) {
      const onSource = await discoverTables(source, schema);
      problems.push(...compareShapes(onSource, await discoverTables(target, schema)));
      tables.set(schema, onSource);
    }
    if (problems.length && prepareTarget) {
      throw new MigrateError(`source and target schemas differ:\n  ${problems.join('\n  ')}`);
    }
    return await fn({ source, target, tables, shapeProblems: problems });
  } finally {
    await target?.close();
    await source.close();
  }
}

export interface CopySummary<R> {
  tables: R[];
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

function summarize<R extends { read: number }>(tables: R[], started: number): CopySummary<R> {
  const seconds = (performance.now() - started) / 1000;
  const rows = tables.reduce((sum, t) => sum + t.read, 0);
  return {
    tables,
    rows,
    seconds: Number(seconds.toFixed(3)),
    rowsPerSecond: Math.round(rows / Math.max(seconds, 1e-3)),
  };
}

export async function runSnapshot(options: CommandOptions): Promise<CopySummary<TableReport>> {
  const started = performance.now();
  const tables = await withEnds(options, true, (ends) =>
    snapshotCopy({
      ...ends,
      batchSize: options.batchSize ?? 1000,
      resume: options.resume ?? false,
      sourceLabel: redact(options.source),
      onTable: options.onTable,
    }),
  );
  return summarize(tables, started);
}

export async function runCatchUp(options: CommandOptions): Promise<CopySummary<CatchUpTableReport>> {
  const started = performance.now();
  const tables = await withEnds(options, true, (ends) =>
    catchUp({ ...ends, batchSize: options.batchSize ?? 1000, onTable: options.onTable }),
  );
  return summarize(tables, started);
}

export interface VerifySummary {
  equal: boolean;
  tables: TableVerdict[];
  differences: string[];
}

/** Compares without changing the target (no migrations run): a missing table is a difference, not a fix. */
export async function runVerify(options: CommandOptions): Promise<VerifySummary> {
  return withEnds(options, false, async (ends) => {
    // A table the target lacks or shapes differently cannot be compared row by row: it is a difference itself.
    const broken = new Set(ends.shapeProblems.map((p) => p.split(' ')[0]));
    const comparable = new Map(
      [...ends.tables].map(([schema, tables]) => [schema, tables.filter((t) => !broken.has(`${t.schema}.${t.name}`))]),
    );
    const tables = await verify({ ...ends, tables: comparable });
    const differences = [
      ...ends.shapeProblems,
      ...tables
        .filter((t) => !t.equal)
        .map((t) =>
          t.sourceRows !== t.targetRows
            ? `${t.table}: ${t.sourceRows} rows on the source, ${t.targetRows} on the target`
            : `${t.table}: same row count (${t.sourceRows}) but the contents differ`,
        ),
    ];
    for (const schema of ends.tables.keys())
      differences.push(...(await sequencesBehind(ends.source, ends.target, schema)));
    return { equal: differences.length === 0, tables, differences };
  });
}
