import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RequestResult } from './sheets-api.js';
import type { WriterEvents } from './writer.js';

/** What the gauges read when Prometheus scrapes: a snapshot of the queue, buckets and breaker. */
export interface SyncSnapshot {
  writeTokens: number;
  readTokens: number;
  writeBurst: number;
  queueDepth: number;
  outboxDepth: number;
  oldestPendingAgeSeconds: number;
  breakerState: 'closed' | 'open' | 'half-open';
}

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** Below this share of the write bucket, writes are about to wait for the quota. */
export const NEAR_QUOTA_SHARE = 0.1;

/**
 * sheets-sync's Prometheus series. Counters are fed by the writer's events; gauges are computed at
 * scrape time from one snapshot, so they cannot drift from GetSyncStatus.
 */
export function createSyncMetrics(registry: Registry, snapshot: () => Promise<SyncSnapshot>) {
  let cached: { at: number; value: Promise<SyncSnapshot> } | undefined;
  // One snapshot per scrape (all gauges collect within milliseconds), not one per gauge.
  const read = () => {
    const now = Date.now();
    if (!cached || now - cached.at > 500) cached = { at: now, value: snapshot() };
    return cached.value;
  };
  const gauge = (name: string, help: string, pick: (s: SyncSnapshot) => number, labelNames: string[] = []) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.set(pick(await read()));
      },
    });
  new Gauge({
    name: 'sheets_sync_tokens_available',
    help: 'Tokens in the shared Sheets API buckets, by bucket (write, read).',
    labelNames: ['bucket'],
    registers: [registry],
    async collect() {
      const s = await read();
      this.set({ bucket: 'write' }, s.writeTokens);
      this.set({ bucket: 'read' }, s.readTokens);
    },
  });
  gauge('sheets_sync_near_quota', 'Whether fewer than a tenth of the write tokens are left (1) or not (0).', (s) =>
    s.writeTokens < s.writeBurst * NEAR_QUOTA_SHARE ? 1 : 0,
  );
  gauge('sheets_sync_queue_depth', 'Rows whose newest version is not in the sheet yet.', (s) => s.queueDepth);
  gauge(
    'sheets_sync_oldest_pending_age_seconds',
    'Age of the oldest change not yet in the sheet.',
    (s) => s.oldestPendingAgeSeconds,
  );
  gauge('sheets_sync_outbox_depth', 'Rows held back by failed writes or an open breaker.', (s) => s.outboxDepth);
  gauge(
    'sheets_sync_breaker_state',
    'Circuit breaker around the Sheets API: 0 closed, 1 half-open, 2 open.',
    (s) => BREAKER_VALUE[s.breakerState],
  );
  const requests = new Counter({
    name: 'sheets_sync_requests_total',
    help: 'Sheets API requests by kind (append, update, read, header) and result (ok, 429, 5xx, timeout, network, 4xx).',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const rowsWritten = new Counter({
    name: 'sheets_sync_rows_written_total',
    help: 'Rows written to the sheet (appended or rewritten).',
    registers: [registry],
  });
  const rowsPerRequest = new Histogram({
    name: 'sheets_sync_rows_per_request',
    help: 'Rows in each successful append or values.batchUpdate.',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  const coalesced = new Counter({
    name: 'sheets_sync_coalesced_updates_total',
    help: 'Updates that replaced a pending, never-written version of the same row (several updates, one write).',
    registers: [registry],
  });
  const events: WriterEvents = {
    request(kind, result: RequestResult, rows) {
      requests.inc({ kind, result });
      if (result === 'ok' && (kind === 'append' || kind === 'update')) rowsPerRequest.observe(rows);
    },
    rowsWritten(rows) {
      rowsWritten.inc(rows);
    },
  };
  return { events, coalesced };
}
