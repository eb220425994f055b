/**
 * Resource subscriptions on calls: a 2025-11-25 session subscribes to callgate://calls/{id} and receives
 * notifications/resources/updated on every status change (pushed from the call service's change stream);
 * another user's call cannot be subscribed to.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { httpClient, tokenFor, wsClient } from '../support/system.js';
import { within } from '../support/within.js';

let system: LocalSystem;
before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: 'silent', SANDBOX_CALL_STEP_MS: '80', SANDBOX_TALK_MS: '300' },
  });
});
after(async () => {
  await system.stop();
});

for (const [name, connect] of [
  ['Streamable HTTP', httpClient],
  ['WebSocket', wsClient],
] as const) {
  describe(`resources/subscribe over ${name}`, () => {
    let owner: Client;
    let other: Client;
    before(async () => {
      owner = await connect(system, tokenFor(system, `sub-owner-${randomUUID()}`));
      other = await connect(system, tokenFor(system, `sub-other-${randomUUID()}`));
    });
    after(async () => {
      await owner.close();
      await other.close();
    });

    it('advertises subscriptions', () => {
      assert.equal(owner.getServerCapabilities()?.resources?.subscribe, true);
    });

    it("a subscribed call's updates arrive until it ends; the history is updated too", async () => {
      const updates: string[] = [];
      let ended: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (ended = resolve));
      owner.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
        updates.push(n.params.uri);
        const read = await owner.readResource({ uri: n.params.uri });
        const body = JSON.parse(String((read.contents[0] as { text: string }).text)) as { status?: string };
        if (body.status === 'completed') ended();
      });
      const placed = await owner.callTool({
        name: 'makePhoneCall',
        arguments: { to: '+14155550001', task: 'x', firstMessage: 'hi' },
      });
      const { callId } = (placed.structuredContent as { call: { callId: string } }).call;
      const uri = `callgate://calls/${callId}`;
      await owner.subscribeResource({ uri });
      await owner.subscribeResource({ uri: 'callgate://calls' });
      await within(done, 'the completed update');
      assert.ok(updates.filter((u) => u === uri).length >= 2, JSON.stringify(updates));
      assert.ok(updates.includes('callgate://calls'), 'history updated');
      await owner.unsubscribeResource({ uri });
    });

    it("another user's call cannot be subscribed to", async () => {
      const placed = await owner.callTool({ name: 'makePhoneCall', arguments: { to: '+14155550002', task: 'x' } });
      const { callId } = (placed.structuredContent as { call: { callId: string } }).call;
      await assert.rejects(
        other.subscribeResource({ uri: `callgate://calls/${callId}` }),
        (e: unknown) => (e as { code?: number }).code === -32602 && /not found/i.test(String(e)),
      );
    });
  });
}
