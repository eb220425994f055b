/**
 * `npm run bench -- sheets [--runs 2]`: the burst. The sandbox (Google Sheets with a quota of
 * 300 write requests a minute) and sheets-sync run in their own processes; sheets-sync on a fresh
 * PostgreSQL database at DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). 10,000 row
 * events for 2,000 calls (five versions each, shuffled) are pushed over gRPC as fast as 64 callers can;
 * the run ends when the sheet holds every row's final version. Prints rows delivered per API request and
 * quota utilisation: write requests used ÷ write requests the quota allowed while a backlog existed.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createLogger, PostgresDatabase } from '@callgate/common';
import type { SheetsSandboxStats } from '@callgate/sandbox';
import { callEvents, pushAll, sheetsSyncClient } from '../../test/support/sheets.js';
import { startService } from './processes.js';

const QUOTA_PER_MINUTE = 300;
const CALLS = 2000;

export async function benchSheets(options: { runs: number }): Promise<void> {
  const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = new PostgresDatabase({ url: baseUrl, log: createLogger('bench', 'silent') });
  const sandbox = await startService('sandbox', {
    SANDBOX_PORT: '0',
    SANDBOX_SHEETS_QUOTA_PER_MINUTE: String(QUOTA_PER_MINUTE),
  });
  // The sandbox logs its bound port as `port`.
  const sandboxUrl = `http://127.0.0.1:${(sandbox.started as unknown as { port: number }).port}`;
  const stats = async () => (await (await fetch(`${sandboxUrl}/sandbox/sheets/stats`)).json()) as SheetsSandboxStats;
  try {
    for (let run = 1; run <= options.runs; run++) {
      const name = `sheets_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(baseUrl);
      url.pathname = `/${name}`;
      const spreadsheetId = `bench-${name}`;
      const service = await startService('sheets-sync', {
        DATABASE_URL: url.toString(),
        GRPC_PORT: '0',
        METRICS_PORT: '0',
        GOOGLE_SHEETS_API_URL: sandboxUrl,
        GOOGLE_SHEETS_ID: spreadsheetId,
      });
      const client = sheetsSyncClient(`127.0.0.1:${service.started.grpcPort}`);
      try {
        const before = await stats();
        const events = callEvents(CALLS, `bench${run}`, run);
        const started = performance.now();
        const pushing = pushAll(client, events);
        let pushedMs = 0;
        void pushing.then(() => {
          pushedMs = performance.now() - started;
        });
        // The backlog lasts until the queue is empty after the last event was acknowledged.
        const deadline = started + 300_000;
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          if (performance.now() > deadline) throw new Error('the sheet was not complete within 5 minutes');
          if (!pushedMs) continue;
          if ((await client.getSyncStatus({})).queueDepth === 0) break;
        }
        const backlogMs = performance.now() - started;
        const accepted = await pushing;
        const status = await client.getSyncStatus({});
        const after = await stats();
        const writes = after.writeRequests - before.writeRequests;
        const reads = after.readRequests - before.readRequests;
        const allowed = (QUOTA_PER_MINUTE * backlogMs) / 60_000;
        const budget = 20 + (250 * backlogMs) / 60_000;
        const rows = (await (
          await fetch(`${sandboxUrl}/sandbox/sheets/spreadsheets/${spreadsheetId}/sheets/Calls`)
        ).json()) as { rows: string[][] };
        const complete = rows.rows.slice(1).filter((r) => r[5] === 'completed').length;
        process.stdout.write(
          [
            `sheets run ${run}: ${events.length} events for ${CALLS} calls (${accepted} accepted, newer versions only)`,
            `  pushed in ${(pushedMs / 1000).toFixed(2)} s; sheet complete after ${(backlogMs / 1000).toFixed(2)} s`,
            `  sheet rows: ${rows.rows.length - 1} (${complete} with their final status)`,
            `  write requests: ${writes} (+${reads} reads, ${after.rejected429 - before.rejected429} answered 429; busiest minute ${after.maxWritesPerMinute}/${QUOTA_PER_MINUTE})`,
            `  rows written: ${status.rowsWritten}; rows delivered per request: ${(CALLS / writes).toFixed(1)} final rows, ${(Number(status.rowsWritten) / writes).toFixed(1)} row writes`,
            `  quota utilisation while the backlog existed: ${writes} used / ${allowed.toFixed(1)} allowed at ${QUOTA_PER_MINUTE}/min = ${((100 * writes) / allowed).toFixed(1)} %` +
              ` (the default bucket, 20 + 250/min, allowed ${budget.toFixed(1)}: ${((100 * writes) / budget).toFixed(1)} %)`,
            '',
          ].join('\n'),
        );
      } finally {
        client.close();
        await service.process.stop();
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    }
  } finally {
    await sandbox.process.stop();
    await admin.close();
  }
}
