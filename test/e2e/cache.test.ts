/**
 * The gateway's read cache through MCP: repeated reads of the catalogue and the balance are served
 * from the cache (its hit counter on /metrics grows), and the balance read right after the user's own
 * call has settled is the settled one, never the cached one from before.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { NUMBERS } from '../support/calls.js';
import { httpClient, tokenFor } from '../support/system.js';

let system: LocalSystem;
before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: 'silent', SANDBOX_CALL_STEP_MS: '50', SANDBOX_TALK_MS: '1200' },
  });
});
after(async () => {
  await system.stop();
});

/** callgate_gateway_cache_lookups_total by cache and result, from the gateway's /metrics. */
async function lookups(): Promise<Record<string, number>> {
  const gateway = system.services.find((s) => s.name === 'gateway');
  const text = await (await fetch(`http://127.0.0.1:${gateway?.opsPort}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, labels = '', value] of text.matchAll(/^callgate_gateway_cache_lookups_total\{(.*)\} (\d+)/gm)) {
    const cache = /cache="(\w+)"/.exec(labels)?.[1];
    const result = /result="(\w+)"/.exec(labels)?.[1];
    counts[`${cache}:${result}`] = Number(value);
  }
  return counts;
}

interface Balance {
  available: number;
  held: number;
}

describe('gateway read cache', () => {
  it('serves repeated catalogue and balance reads from the cache', async () => {
    const client = await httpClient(system, tokenFor(system, `cache-${randomUUID()}`));
    try {
      const before = await lookups();
      const voices: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        voices.push((await client.callTool({ name: 'getVoiceOptions', arguments: {} })).structuredContent);
        await client.callTool({ name: 'getCreditBalance', arguments: {} });
      }
      const now = await lookups();
      const delta = (key: string) => (now[key] ?? 0) - (before[key] ?? 0);
      assert.ok(delta('options:hit') >= 4, JSON.stringify({ before, now }));
      assert.ok(delta('balance:hit') >= 4, JSON.stringify({ before, now }));
      assert.equal(delta('balance:miss'), 1, 'one read reached user-credit');
      assert.ok(
        voices.every((v) => JSON.stringify(v) === JSON.stringify(voices[0])),
        'a hit answers what a miss did',
      );
    } finally {
      await client.close();
    }
  });

  it('right after placing a call, the balance shows the credits it holds', async () => {
    const client = await httpClient(system, tokenFor(system, `cache-${randomUUID()}`));
    const balance = async () =>
      ((await client.callTool({ name: 'getCreditBalance', arguments: {} })).structuredContent as { balance: Balance })
        .balance;
    try {
      const start = await balance(); // cached now
      const placed = await client.callTool({
        name: 'makePhoneCall',
        arguments: { to: NUMBERS.noAnswer, task: 'Confirm the booking.' },
      });
      const call = (placed.structuredContent as { call: { reservedCredits: number } }).call;
      const now = await balance();
      assert.equal(now.held, start.held + call.reservedCredits, JSON.stringify({ start, now, call }));
    } finally {
      await client.close();
    }
  });

  it('after the caller’s call settles, the balance read is the settled one', async () => {
    const client = await httpClient(system, tokenFor(system, `cache-${randomUUID()}`));
    const balance = async () =>
      ((await client.callTool({ name: 'getCreditBalance', arguments: {} })).structuredContent as { balance: Balance })
        .balance;
    try {
      const start = await balance();
      await balance(); // cached now
      const placed = await client.callTool({
        name: 'makePhoneCall',
        arguments: { to: NUMBERS.answers, task: 'Confirm the booking.', wait: 'completed' },
      });
      const call = (placed.structuredContent as { call: { costCredits: number; reservedCredits: number } }).call;
      assert.ok(call.costCredits > 0, JSON.stringify(call));
      assert.equal(call.reservedCredits, 0);
      const end = await balance();
      assert.equal(end.held, 0, 'nothing held once the call settled');
      assert.equal(end.available, start.available - call.costCredits, JSON.stringify({ start, end, call }));
    } finally {
      await client.close();
    }
  });
});
