/**
 * One user's hanging webhook receivers do not delay another user's deliveries (attack review of Dec 2026,
 * attack2 finding 5). The delivery worker bounds each user's attempts in flight to their share of the
 * replica's slots (WEBHOOK_DELIVERY_PER_USER, at most WEBHOOK_DELIVERY_CONCURRENCY - 1) and holds that
 * user's other deliveries in memory, so another user's message still finds a slot.
 *
 * Before the fix (concurrency 2, attempt bound 30 s) the attacker's one call, three hanging endpoints, held
 * both slots for the whole bound and the victim's call.completed waited for it (33.9 s). Here the bound is
 * 10 minutes: the victim's delivery must come while the attacker's attempts still hang, whatever the load;
 * "an attacker's attempt timed out first" can then only mean the fix is gone.
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
/** After the test: /hang answers at once, so stopping the system does not wait for a hanging attempt. */
let released = false;
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
      if (req.url === '/hang' && !released) {
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
      WEBHOOK_TIMEOUT_MS: '600000',
      WEBHOOK_RETRY_BASE_SECONDS: '0',
      WEBHOOK_RETRY_MAX_SECONDS: '0',
      WEBHOOK_RECEIVE_WAIT_SECONDS: '1',
    },
  });
});
after(async () => {
  released = true;
  for (const res of hanging) res.destroy();
  await system?.stop();
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
    // Its share: one of the two slots (WEBHOOK_DELIVERY_PER_USER is capped at concurrency - 1).
    await eventually('the attacker holding its share of the slots', async () =>
      hanging.length >= 1 ? true : undefined,
    );

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
    assert.equal(hanging.length, 1, "the attacker's other deliveries waited for its one slot, never took the second");
  } finally {
    await mallory.close();
    await victim.close();
  }
});
