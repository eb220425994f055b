/** The sandbox's Google Sheets and a sheets-sync service pointed at it, for sheets-sync's tests and benchmark. */
import { randomUUID } from 'node:crypto';
import {
  ACTIVE_STATUSES,
  connectService,
  type Database,
  loadConfig,
  type PromiseClient,
  type ServiceHandle,
} from '@callgate/common';
import type { sheetsV1 } from '@callgate/protos';
import { type SheetsFault, type SheetsSandboxStats, sandboxConfigShape, startSandbox } from '@callgate/sandbox';
import { sheetsSyncConfigShape, startSheetsSyncService } from '@callgate/sheets-sync';
import { eventually } from './eventually.js';

export type SheetsSyncClient = PromiseClient<sheetsV1.SheetsSyncServiceDefinition>;

export interface SheetsSandboxHandle {
  url: string;
  handle: ServiceHandle;
  fault(fault: SheetsFault): Promise<void>;
  stats(): Promise<SheetsSandboxStats>;
  /** The tab's rows, read past the quota. */
  rows(spreadsheetId: string, tab?: string): Promise<string[][]>;
  stop(): Promise<void>;
}

export async function startSheetsSandbox(quotaPerMinute = 300): Promise<SheetsSandboxHandle> {
  const handle = await startSandbox(
    loadConfig('sandbox', sandboxConfigShape, {
      SANDBOX_PORT: '0',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      SANDBOX_SHEETS_QUOTA_PER_MINUTE: String(quotaPerMinute),
    }),
  );
  const url = handle.endpoints.sheets as string;
  const admin = async (path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<unknown>;
  };
  return {
    url,
    handle,
    fault: async (fault) => void (await admin('/sandbox/sheets/faults', fault)),
    stats: () => admin('/sandbox/sheets/stats') as Promise<SheetsSandboxStats>,
    rows: async (id, tab = 'Calls') =>
      (
        (await admin(`/sandbox/sheets/spreadsheets/${encodeURIComponent(id)}/sheets/${encodeURIComponent(tab)}`)) as {
          rows: string[][];
        }
      ).rows,
    stop: () => handle.stop(),
  };
}

export function sheetsSyncClient(address: string, deadlineMs = 30_000): SheetsSyncClient {
  return connectService('sheets', address, { defaultDeadlineMs: deadlineMs });
}

export interface SheetsSyncUnderTest {
  handle: ServiceHandle;
  client: SheetsSyncClient;
  spreadsheetId: string;
  stop(): Promise<void>;
}

/** sheets-sync on free ports, writing to the sandbox; env overrides the defaults. The database is the test's. */
export async function startSheetsSync(
  db: Database,
  sandboxUrl: string,
  options: { env?: Record<string, string>; schema?: string; spreadsheetId?: string; redisKeyPrefix?: string } = {},
): Promise<SheetsSyncUnderTest> {
  const spreadsheetId = options.spreadsheetId ?? `sheet-${randomUUID()}`;
  const config = loadConfig('sheets-sync', sheetsSyncConfigShape, {
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    GOOGLE_SHEETS_API_URL: sandboxUrl,
    GOOGLE_SHEETS_ID: spreadsheetId,
    ...options.env,
  });
  const handle = await startSheetsSyncService(config, {
    db,
    ownsDb: false,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.redisKeyPrefix ? { redisKeyPrefix: options.redisKeyPrefix } : {}),
  });
  const client = sheetsSyncClient(`127.0.0.1:${handle.grpcPort}`);
  return {
    handle,
    client,
    spreadsheetId,
    stop: async () => {
      (client as unknown as { close?: () => void }).close?.();
      await handle.stop();
    },
  };
}

/** A call's statuses from the first to completed, in order: versions 1..5 of its row. */
export const STATUSES = [...ACTIVE_STATUSES, 'completed'] as const;

/** Every status change of `calls` calls (versions 1..5, the last terminal), shuffled: replays arrive out of order. */
export function callEvents(calls: number, prefix = 'call', seed = 42): sheetsV1.CallRow[] {
  const events: sheetsV1.CallRow[] = [];
  for (let c = 0; c < calls; c++) {
    const callId = `${prefix}-${String(c).padStart(5, '0')}`;
    STATUSES.forEach((status, i) => {
      events.push({
        callId,
        version: i + 1,
        userId: `user-${c % 37}`,
        to: `+1415555${String(c % 10_000).padStart(4, '0')}`,
        from: '+15005550006',
        status,
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, c)).toISOString(),
        endedAt: status === 'completed' ? new Date(Date.UTC(2026, 0, 1, 0, 5, c)).toISOString() : '',
        durationSeconds: status === 'completed' ? 60 + (c % 240) : 0,
        costCredits: status === 'completed' ? 10 + (c % 5) : 0,
        outcomeSummary: status === 'completed' ? 'reached the person' : '',
        terminal: status === 'completed',
      });
    });
  }
  // A seeded shuffle, so a failure can be replayed.
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j] as sheetsV1.CallRow, events[i] as sheetsV1.CallRow];
  }
  return events;
}

/** Sends every event with `concurrency` calls in flight; resolves with how many were accepted. */
export async function pushAll(client: SheetsSyncClient, events: sheetsV1.CallRow[], concurrency = 64): Promise<number> {
  let next = 0;
  let accepted = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < events.length) {
        const row = events[next++] as sheetsV1.CallRow;
        if ((await client.upsertCallRow({ row })).accepted) accepted++;
      }
    }),
  );
  return accepted;
}

/** Polls GetSyncStatus until `done` holds (no deadline: see eventually.ts). */
export function waitForStatus(
  client: SheetsSyncClient,
  done: (s: sheetsV1.GetSyncStatusResponse__Output) => boolean,
  reportAfterMs = 60_000,
): Promise<sheetsV1.GetSyncStatusResponse__Output> {
  let last: sheetsV1.GetSyncStatusResponse__Output | undefined;
  return eventually(
    'the sync status',
    async () => {
      const status = await client.getSyncStatus({});
      last = status;
      return done(status) ? status : undefined;
    },
    reportAfterMs,
    { intervalMs: 100, lastSeen: () => JSON.stringify(last) },
  );
}
