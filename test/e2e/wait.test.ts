/**
 * makePhoneCall with `wait`: the gateway follows the call over the WatchCall stream and sends progress
 * notifications until the call is answered or ends; a client that cancels stops the wait, not the call.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { httpClient, tokenFor, wsClient } from '../support/system.js';

let system: LocalSystem;
before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: 'silent', SANDBOX_CALL_STEP_MS: '60', SANDBOX_TALK_MS: '300' },
  });
});
after(async () => {
  await system.stop();
});

interface CallView {
  callId: string;
  status: string;
  timeline: { status: string }[];
}

for (const [name, connect] of [
  ['Streamable HTTP', httpClient],
  ['WebSocket', wsClient],
] as const) {
  describe(`makePhoneCall wait over ${name}`, () => {
    let client: Client;
    before(async () => {
      client = await connect(system, tokenFor(system, `waiter-${randomUUID()}`));
    });
    after(async () => {
      await client.close();
    });

    it('wait: completed streams progress until the call ends, then returns the ended call', async () => {
      const messages: { progress: number; message?: string }[] = [];
      const result = await client.callTool(
        { name: 'makePhoneCall', arguments: { to: '+14155550001', task: 'confirm', wait: 'completed' } },
        CallToolResultSchema,
        { onprogress: (p) => messages.push(p), resetTimeoutOnProgress: true },
      );
      assert.equal(result.isError, undefined, JSON.stringify(result.content));
      const call = (result.structuredContent as { call: CallView }).call;
      assert.equal(call.status, 'completed');
      assert.deepEqual(
        call.timeline.map((e) => e.status),
        ['queued', 'initiated', 'ringing', 'in-progress', 'completed'],
      );
      assert.ok(messages.length >= 4, `one notification per event, got ${JSON.stringify(messages)}`);
      assert.ok(
        messages.every((m, i) => i === 0 || m.progress > (messages[i - 1]?.progress ?? 0)),
        'progress increases',
      );
      assert.match(messages.at(-1)?.message ?? '', /completed \(100%\)/);
      assert.ok(messages.some((m) => /ringing/.test(m.message ?? '')));
    });

    it('wait: answered returns once the call is in progress, before it ends', async () => {
      const result = await client.callTool({
        name: 'makePhoneCall',
        arguments: { to: '+14155550001', task: 'confirm', wait: 'answered', maxDurationSeconds: 60 },
      });
      const call = (result.structuredContent as { call: CallView }).call;
      assert.equal(call.status, 'in-progress');
    });

    it('wait on a busy line returns the ended call', async () => {
      const result = await client.callTool({
        name: 'makePhoneCall',
        arguments: { to: '+14155550002', task: 'confirm', wait: 'answered' },
      });
      assert.equal((result.structuredContent as { call: CallView }).call.status, 'busy');
    });

    it('a client that cancels the request stops waiting; the call itself goes on', async () => {
      const controller = new AbortController();
      const key = `cancel-wait-${randomUUID()}`;
      const pending = client.callTool(
        { name: 'makePhoneCall', arguments: { to: '+14155550001', task: 'x', wait: 'completed', idempotencyKey: key } },
        CallToolResultSchema,
        {
          signal: controller.signal,
          onprogress: (p) => {
            if (/ringing/.test(p.message ?? '')) controller.abort('enough');
          },
        },
      );
      await assert.rejects(pending);
      // The same key returns the same call, which reaches its end without anyone waiting.
      const again = await client.callTool({
        name: 'makePhoneCall',
        arguments: { to: '+14155550001', task: 'x', wait: 'completed', idempotencyKey: key },
      });
      const body = again.structuredContent as { call: CallView; deduplicated: boolean };
      assert.equal(body.deduplicated, true);
      assert.equal(body.call.status, 'completed');
    });
  });
}

describe('call resources', () => {
  it("a call is readable at callgate://calls/{id} by its owner only, and listed in the owner's history", async () => {
    const owner = await httpClient(system, tokenFor(system, `owner-${randomUUID()}`));
    const other = await wsClient(system, tokenFor(system, `other-${randomUUID()}`));
    try {
      const placed = await owner.callTool({
        name: 'makePhoneCall',
        arguments: { to: '+14155550002', task: 'x', wait: 'completed' },
      });
      const { callId } = (placed.structuredContent as { call: CallView }).call;
      const read = await owner.readResource({ uri: `callgate://calls/${callId}` });
      const call = JSON.parse(String((read.contents[0] as { text: string }).text)) as CallView;
      assert.equal(call.callId, callId);
      assert.equal(call.status, 'busy');
      const history = await owner.readResource({ uri: 'callgate://calls' });
      const calls = (JSON.parse(String((history.contents[0] as { text: string }).text)) as { calls: CallView[] }).calls;
      assert.deepEqual(
        calls.map((c) => c.callId),
        [callId],
      );
      const listed = await owner.listResources();
      assert.ok(listed.resources.some((r) => r.uri === `callgate://calls/${callId}`));
      await assert.rejects(
        other.readResource({ uri: `callgate://calls/${callId}` }),
        (e: unknown) =>
          (e as { code?: number }).code === -32602 && /not found/.test(String(e)) && !/BUSY/.test(String(e)),
        "another user's call is not found",
      );
      const otherHistory = await other.readResource({ uri: 'callgate://calls' });
      assert.deepEqual(JSON.parse(String((otherHistory.contents[0] as { text: string }).text)).calls, []);
    } finally {
      await owner.close();
      await other.close();
    }
  });
});
