/**
 * What must hold after a load or fault run, checked against the services' own records (not the
 * clients' view): every call terminal and its credits closed, no hold left open, each user's ledger
 * consistent, one sheet row per call, nothing in the DLQ but the planted poison. Each check returns
 * the violations it found; an empty list is a pass.
 */
import path from 'node:path';
import {
  connectService,
  createLogger,
  createSqsClient,
  type Database,
  dlqUrl,
  isCallStatus,
  isTerminal,
  isTerminalProto,
  loadConfig,
  PgliteDatabase,
  PostgresDatabase,
  sqsConfigShape,
} from '@callgate/common';
import { checkLedger } from '@callgate/user-credit';
import { peek } from '../../../services/poller/src/dlq.js';
import type { Cluster } from './cluster.js';
import { scrape, sum } from './prom.js';

export const POISON_MARKER = 'callgate-bench-planted-poison';

export interface InvariantResult {
  name: string;
  detail: string;
  violations: string[];
}

/** A gRPC client of the call service, to watch the system settle without touching its database. */
function callClient(address: string) {
  return connectService('call', address, { defaultDeadlineMs: 10_000 });
}

/**
 * Waits (bounded) until every call of the run's users is terminal with its credits closed and the
 * sheet has caught up, as the services report it; returns what was still open at the bound.
 */
export async function waitForQuiet(
  cluster: Cluster,
  users: string[],
  boundMs: number,
  /** Only calls created before this (RFC 3339), and not the sheet: the check after each fault, under load. */
  createdBefore?: string,
): Promise<{ open: string; callIds: Set<string> }> {
  const client = callClient(cluster.grpcAddress('call'));
  const deadline = Date.now() + boundMs;
  let open = 'not looked yet';
  const callIds = new Set<string>();
  try {
    while (Date.now() < deadline) {
      let unfinished = 0;
      let unsettled = 0;
      try {
        for (const userId of users) {
          let pageToken = '';
          do {
            const page = await client.listCalls({
              userId,
              pageSize: 100,
              pageToken,
              createdBefore: createdBefore ?? '',
            });
            for (const call of page.calls) {
              callIds.add(call.callId);
              if (!isTerminalProto(call.status)) unfinished++;
              else if (Number(call.reservedCredits) > 0) unsettled++;
            }
            pageToken = page.nextPageToken;
          } while (pageToken);
        }
        // Series carry default labels (service=…): sum them rather than match a bare name.
        const metrics = await scrape(cluster.opsUrl('sheets-sync'));
        const depth = metrics.some((m) => m.name === 'sheets_sync_queue_depth')
          ? sum(metrics, 'sheets_sync_queue_depth')
          : Number.NaN;
        open = `${unfinished} call(s) not terminal, ${unsettled} not settled, Sheets queue depth ${depth}`;
        if (unfinished === 0 && unsettled === 0 && (depth === 0 || createdBefore)) return { open: '', callIds };
      } catch (error) {
        open = `services not answering: ${(error as Error).message}`;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    return { open, callIds };
  } finally {
    client.close();
  }
}

/** Facts only the running system can give: the sandbox sheet, the DLQ (the emulator lives in the harness). */
export async function liveChecks(cluster: Cluster, callIds: Set<string>): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];

  // One sheet row per call: the sandbox's raw rows, read outside the API quota.
  const response = await fetch(`${cluster.sandboxUrl}/sandbox/sheets/spreadsheets/callgate-bench/sheets/Calls`);
  const { rows } = (await response.json()) as { rows: string[][] };
  const perCall = new Map<string, number>();
  for (const row of rows.slice(1)) perCall.set(row[0] ?? '', (perCall.get(row[0] ?? '') ?? 0) + 1);
  const sheetViolations: string[] = [];
  for (const id of callIds) {
    const n = perCall.get(id) ?? 0;
    if (n !== 1) sheetViolations.push(`call ${id} has ${n} sheet rows`);
  }
  results.push({
    name: 'one sheet row per call',
    detail: `${callIds.size} calls, ${rows.length - 1} rows in the sandbox sheet`,
    violations: sheetViolations,
  });

  // The DLQ holds nothing but the poison planted at the start.
  const config = loadConfig('bench', sqsConfigShape, {
    SQS_ENDPOINT: cluster.sqsEndpoint,
    SQS_QUEUE_NAME: cluster.queueName,
    SQS_DLQ_NAME: `${cluster.queueName}-dlq`,
  });
  const sqs = createSqsClient(config);
  try {
    const { GetQueueUrlCommand } = await import('@aws-sdk/client-sqs');
    const queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: cluster.queueName }))).QueueUrl ?? '';
    const messages = await peek(sqs, await dlqUrl(sqs, queueUrl, `${cluster.queueName}-dlq`), 1000);
    const unexpected = messages.filter((m) => !m.body.includes(POISON_MARKER));
    results.push({
      name: 'DLQ holds only planted poison',
      detail: `${messages.length - unexpected.length} planted poison message(s) in the DLQ, ${unexpected.length} other`,
      violations: unexpected.map((m) => `DLQ message ${m.id} (${m.receiveCount} receives): ${m.body.slice(0, 200)}`),
    });
  } finally {
    sqs.destroy();
  }
  return results;
}

/**
 * The services' databases, after they stopped (an embedded PGlite can be opened only then): calls,
 * reservations and ledgers of the run's users, and the sheets outbox.
 */
export async function databaseChecks(
  options: { dataDir: string; databaseUrl?: string },
  users: string[],
  clientCallIds: Set<string>,
): Promise<InvariantResult[]> {
  const open = async (service: string): Promise<Database> =>
    options.databaseUrl
      ? new PostgresDatabase({
          url: options.databaseUrl,
          log: createLogger('bench', 'silent'),
          applicationName: 'callgate-bench-check',
        })
      : PgliteDatabase.open(path.join(options.dataDir, service, 'pglite'));
  const results: InvariantResult[] = [];

  const callDb = await open('call');
  let callIds: string[] = [];
  try {
    const { rows } = await callDb.query<{ call_id: string; status: string; settlement: string; dial_state: string }>(
      'SELECT call_id, status, settlement, dial_state FROM calls.calls WHERE user_id = ANY($1)',
      [users],
    );
    callIds = rows.map((r) => r.call_id);
    const known = new Set(callIds);
    results.push({
      name: 'every call terminal',
      detail: `${rows.length} calls recorded (${rows.filter((r) => r.status === 'completed').length} completed)`,
      violations: [
        ...rows
          .filter((r) => !(isCallStatus(r.status) && isTerminal(r.status)))
          .map((r) => `call ${r.call_id} is ${r.status} (${r.dial_state})`),
        ...[...clientCallIds].filter((id) => !known.has(id)).map((id) => `call ${id} a client placed is not recorded`),
      ],
    });
    results.push({
      name: 'every call settled or released',
      detail: Object.entries(countBy(rows.map((r) => r.settlement)))
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
      violations: rows
        .filter((r) => r.settlement !== 'settled' && r.settlement !== 'released')
        .map((r) => `call ${r.call_id} settlement ${r.settlement}`),
    });
  } finally {
    await callDb.close();
  }

  const creditDb = await open('user-credit');
  try {
    const { rows } = await creditDb.query<{ reservation_id: string; status: string; call_id: string }>(
      'SELECT reservation_id, status, call_id FROM credits.reservations WHERE user_id = ANY($1)',
      [users],
    );
    results.push({
      name: 'no credit hold left open',
      detail: Object.entries(countBy(rows.map((r) => r.status)))
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
      violations: rows
        .filter((r) => r.status === 'held')
        .map((r) => `reservation ${r.reservation_id} (call ${r.call_id}) still held`),
    });
    const ledger: string[] = [];
    for (const userId of users) {
      for (const d of await checkLedger(creditDb, userId)) ledger.push(`${userId}: ${JSON.stringify(d)}`);
    }
    results.push({ name: 'ledger consistent (checkLedger)', detail: `${users.length} users`, violations: ledger });
  } finally {
    await creditDb.close();
  }

  const sheetsDb = await open('sheets-sync');
  try {
    const { rows } = await sheetsDb.query<{ call_id: string; version: string; written_version: string }>(
      'SELECT call_id, version, written_version FROM sheets.rows WHERE call_id = ANY($1)',
      [callIds],
    );
    const byCall = new Map(rows.map((r) => [r.call_id, r]));
    results.push({
      name: 'sheets outbox drained',
      detail: `${rows.length} rows for ${callIds.length} calls`,
      violations: [
        ...callIds.filter((id) => !byCall.has(id)).map((id) => `call ${id} has no sheets row`),
        ...rows
          .filter((r) => Number(r.written_version) < Number(r.version))
          .map((r) => `call ${r.call_id} row version ${r.version} written only to ${r.written_version}`),
      ],
    });
  } finally {
    await sheetsDb.close();
  }
  return results;
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
