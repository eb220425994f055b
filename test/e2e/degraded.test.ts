/**
 * Degraded modes, through the MCP gateway with the official SDK client:
 * - user-credit down: makePhoneCall refuses with a retryable error and records (so dials) nothing;
 * - call service down: reads fail fast with UNAVAILABLE and a hint to retry;
 * - Redis down (REDIS_URL at a port nobody listens on): the gateway's per-user limits still apply (each
 *   process its own buckets), and Sheets rows are still written (each sheets-sync its share of the budget).
 * A service is taken down by stopping its handle in the in-process system: its gRPC port closes, which
 * is what a crashed or unreachable service looks like to its callers. Tests in a describe run in order.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { eventually, FAST, NUMBERS } from '../support/calls.js';
import { closedPort } from '../support/redis.js';
import { httpClient, tokenFor } from '../support/system.js';
import { within } from '../support/within.js';

async function stopService(system: LocalSystem, name: string): Promise<void> {
  const handle = system.services.find((s) => s.name === name);
  assert.ok(handle, `${name} is part of the system`);
  await handle.stop();
}

/** The text blocks of a tool result (the SDK's result type is a union; only content matters here). */
const text = (result: object) =>
  (((result as { content?: unknown }).content ?? []) as { type: string; text?: string }[])
    .map((c) => c.text ?? '')
    .join('\n');

describe('a backing service is down', () => {
  let system: LocalSystem;
  let client: Client;
  before(async () => {
    system = await startLocalSystem({
      ports: 'ephemeral',
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', ...FAST },
    });
    client = await httpClient(system, tokenFor(system, `degraded-${randomUUID()}`));
    // The gateway knows the user from here on, so what follows meets only the service that is down.
    const balance = await client.callTool({ name: 'getCreditBalance', arguments: {} });
    assert.equal(balance.isError, undefined, text(balance));
  });
  after(async () => {
    await client?.close();
    await system?.stop();
  });

  it('user-credit down: makePhoneCall refuses with a retryable error and places no call', async () => {
    await stopService(system, 'user-credit');
    const result = await within(
      client.callTool({
        name: 'makePhoneCall',
        arguments: { to: NUMBERS.answers, task: 'Degraded test', idempotencyKey: `degraded-${randomUUID()}` },
      }),
      'makePhoneCall while user-credit is down',
      40_000,
    );
    assert.equal(result.isError, true, text(result));
    assert.equal(
      result._meta?.['callgate/retryable'],
      true,
      `retryable: ${JSON.stringify(result._meta)} ${text(result)}`,
    );
    assert.match(text(result), /retry/i);
    // Nothing was recorded, so nothing can be dialled later by the recovery job either.
    const history = await client.callTool({ name: 'getCallHistory', arguments: {} });
    assert.equal(history.isError, undefined, text(history));
    assert.deepEqual((history.structuredContent as { calls: unknown[] }).calls, []);
  });

  it('call service down: reads fail fast with UNAVAILABLE and a hint to retry', async (t) => {
    await stopService(system, 'call');
    for (const [name, args] of [
      ['getCallDetails', { callId: randomUUID() }],
      ['getCallHistory', {}],
      ['getCallProgress', { callId: randomUUID() }],
    ] as const) {
      const started = Date.now();
      const result = await within(
        client.callTool({ name, arguments: args }),
        `${name} with the call service down`,
        10_000,
      );
      assert.equal(result.isError, true, `${name}: ${text(result)}`);
      assert.equal(result._meta?.['callgate/grpc-status'], 'UNAVAILABLE', `${name}: ${JSON.stringify(result._meta)}`);
      assert.equal(result._meta?.['callgate/retryable'], true);
      assert.match(text(result), /retry in a few seconds/, name);
      // Refused, not waited for: a wait would have ended at the gateway's deadline as DEADLINE_EXCEEDED, not
      // UNAVAILABLE (asserted above). The time is reported, not asserted: it depends on the machine's load.
      t.diagnostic(`${name}: refused in ${Date.now() - started} ms`);
    }
  });
});

describe('Redis is down', () => {
  let system: LocalSystem;
  before(async () => {
    system = await startLocalSystem({
      ports: 'ephemeral',
      env: {
        ...process.env,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
        ...FAST,
        REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
        RATE_LIMIT_BURST: '5',
        RATE_LIMIT_PER_MINUTE: '5',
      },
    });
  });
  after(async () => {
    await system?.stop();
  });

  it('the gateway still limits each user (its own buckets), never unlimited', async () => {
    const client = await httpClient(system, tokenFor(system, `degraded-rl-${randomUUID()}`));
    try {
      const answers: string[] = [];
      for (let i = 0; i < 8; i++) {
        try {
          const r = await client.callTool({ name: 'getVoiceOptions', arguments: {} });
          answers.push(r.isError ? 'error' : 'ok');
        } catch (error) {
          answers.push(/429|rate/i.test(String(error)) ? 'limited' : `other: ${String(error)}`);
        }
      }
      // initialize and notifications/initialized do not all count alike; what matters: some are refused.
      assert.ok(answers.includes('limited'), `a request over the burst is refused: ${answers.join(', ')}`);
      assert.ok(answers.includes('ok'), answers.join(', '));
      assert.ok(!answers.some((a) => a.startsWith('other')), answers.join(', '));
    } finally {
      await client.close();
    }
  });

  it('calls are still mirrored to the sheet (each sheets-sync its share of the budget)', async () => {
    const client = await httpClient(system, tokenFor(system, `degraded-sheets-${randomUUID()}`));
    try {
      const placed = await client.callTool({
        name: 'makePhoneCall',
        arguments: { to: NUMBERS.answers, task: 'Degraded sheets test', idempotencyKey: `degraded-${randomUUID()}` },
      });
      assert.equal(placed.isError, undefined, text(placed));
      const callId = (placed.structuredContent as { call: { callId: string } }).call.callId;
      const sandbox = system.services.find((s) => s.name === 'sandbox')?.endpoints.sheets as string;
      await eventually(
        'the call row in the sheet',
        async () => {
          const r = await fetch(`${sandbox}/sandbox/sheets/spreadsheets/callgate-local/sheets/Calls`);
          const { rows } = (await r.json()) as { rows: string[][] };
          return rows.some((row) => row[0] === callId) ? true : undefined;
        },
        30_000,
      );
    } finally {
      await client.close();
    }
  });
});
