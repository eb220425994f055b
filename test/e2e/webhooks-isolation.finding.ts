/**
 * FINDING (attack2, not fixed): one user's hanging webhook receiver delays every other user's deliveries.
 *
 * The delivery worker (services/call/src/outbound-webhooks/worker.ts) has one pool of
 * WEBHOOK_DELIVERY_CONCURRENCY slots per replica, shared by all users, and stops receiving from the queue
 * while every slot is busy. A receiver that accepts the connection and never answers holds a slot for the
 * whole WEBHOOK_TIMEOUT_MS (10 s by default), then the failure is retried (backoff 30 s doubling), and
 * holds it again. A user with the cap of endpoints (10) subscribed to every event makes about 30 deliveries
 * per call (answered, completed, recording.ready × 10), i.e. 300 slot-seconds per call, or 30 s of a
 * default replica (10 slots) doing nothing else, per call placed; a few calls a minute keep every replica
 * saturated and other users' events arrive minutes late (at worst after their own retry window: dead-lettered).
 *
 * Measured with this file (concurrency 2, attempt bound 30 s; run:
 *   node --import tsx --test test/e2e/webhooks-isolation.finding.ts):
 * it fails: { delivered: false, attackerTimeoutsBefore: 2 } after 33.9 s. The attacker's one call (3 hanging
 * endpoints) held both slots for the full 30 s bound, and the victim's call.completed, for an instant
 * receiver, was still undelivered when the attacker's first two attempts timed out (then the attacker's
 * queued attempts and immediate retries compete with it again).
 *
 * Fix direction (not small): a per-user (or per-endpoint) bound on deliveries in flight, with messages of a
 * user at its bound set aside WITHOUT counting a receive toward SQS's maxReceiveCount (deferring them with
 * ChangeMessageVisibility would count, and SQS would dead-letter them behind the delivery log's back), e.g.
 * one in-memory waiting list per user whose messages' visibility is extended while they wait; or a queue
 * (or SQS message group, fair queues) per user.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { eventually } from '../support/eventually.js';
import { httpClient, tokenFor } from '../support/system.js';

const hanging: ServerResponse[] = [];
let hangTimedOut = 0;
const delivered: { path: string; body: string }[] = [];
let server: Server;
let system: LocalSystem;

const url = (p: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${p}`;

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      body += c;
    });
    req.on('end', () => {
      if (req.url === '/hang') {
        hanging.push(res);
        // The worker gives up (its attempt bound) by closing the connection.
        res.on('close', () => {
          if (!res.writableEnded) hangTimedOut++;
        });
        return;
      }
      delivered.push({ path: req.url ?? '', body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      SANDBOX_CALL_STEP_MS: '30',
      SANDBOX_TALK_MS: '200',
      WEBHOOK_DELIVERY_CONCURRENCY: '2',
      WEBHOOK_TIMEOUT_MS: '30000',
      WEBHOOK_RETRY_BASE_SECONDS: '0',
      WEBHOOK_RETRY_MAX_SECONDS: '0',
      WEBHOOK_RECEIVE_WAIT_SECONDS: '1',
    },
  });
});
after(async () => {
  await system?.stop();
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function tool<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; structuredContent?: T };
  assert.equal(result.isError, undefined, `${name}: ${JSON.stringify(result)}`);
  return result.structuredContent as T;
}

it("a user's hanging receivers do not delay another user's deliveries", async () => {
  const mallory = await httpClient(system, tokenFor(system, `iso-mallory-${randomUUID()}`));
  const victim = await httpClient(system, tokenFor(system, `iso-victim-${randomUUID()}`));
  try {
    for (let i = 0; i < 3; i++) {
      await tool(mallory, 'createWebhook', { url: url('/hang'), events: ['call.answered', 'call.completed'] });
    }
    await tool(mallory, 'makePhoneCall', { to: '+14155550001', task: 'Ask whether the shop is open on Sunday.' });
    await eventually('the attacker holding every delivery slot', async () => (hanging.length >= 2 ? true : undefined));

    await tool(victim, 'createWebhook', { url: url('/victim'), events: ['call.completed'] });
    const placed = await tool<{ call: { callId: string } }>(victim, 'makePhoneCall', {
      to: '+14155550001',
      task: 'Ask whether the shop is open on Sunday.',
    });
    const outcome = await eventually(
      "the victim's delivery, or an attacker's attempt timing out first",
      async () => {
        const mine = delivered.find((d) => d.path === '/victim' && d.body.includes(placed.call.callId));
        if (mine) return { delivered: true, attackerTimeoutsBefore: hangTimedOut };
        if (hangTimedOut > 0) return { delivered: false, attackerTimeoutsBefore: hangTimedOut };
        return undefined;
      },
      5000,
      { intervalMs: 20 },
    );
    assert.deepEqual(
      outcome,
      { delivered: true, attackerTimeoutsBefore: 0 },
      "the victim's event waited for the attacker's hanging receivers",
    );
  } finally {
    await mallory.close();
    await victim.close();
  }
});
