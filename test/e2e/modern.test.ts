/**
 * The 2026-07-28 revision: stateless requests (no session; revision and client identity in each
 * request's _meta), served beside the session transport at the same /mcp, with the official v2 client.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '@callgate/gateway';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { tokenFor } from '../support/system.js';
import { within } from '../support/within.js';

let system: LocalSystem;
before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: 'silent', SANDBOX_CALL_STEP_MS: '40', SANDBOX_TALK_MS: '200' },
  });
});
after(async () => {
  await system.stop();
});

async function modernClient(token: string, mode: 'pin' | 'auto' = 'pin') {
  const client = new Client(
    { name: 'callgate-modern-test', version: '1.0.0' },
    { versionNegotiation: { mode: mode === 'pin' ? { pin: '2026-07-28' } : 'auto' } },
  );
  const transport = new StreamableHTTPClientTransport(new URL(system.mcpUrl), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return { client, transport };
}

describe('MCP 2026-07-28 (stateless)', () => {
  it('connects without a session, pinned or by auto-negotiation', async () => {
    for (const mode of ['pin', 'auto'] as const) {
      const { client, transport } = await modernClient(tokenFor(system, `modern-${randomUUID()}`), mode);
      try {
        assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28', mode);
        assert.equal(transport.sessionId, undefined, 'no session for the stateless revision');
        assert.equal(client.getServerVersion()?.name, 'callgate');
      } finally {
        await client.close();
      }
    }
  });

  it('serves tools, progress and resources, each request on its own', async () => {
    const { client } = await modernClient(tokenFor(system, `modern-${randomUUID()}`));
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'makePhoneCall'));
      const progress: string[] = [];
      const result = await client.callTool(
        { name: 'makePhoneCall', arguments: { to: '+14155550001', task: 'x', wait: 'completed' } },
        { onprogress: (p) => progress.push(p.message ?? '') },
      );
      const call = (
        result.structuredContent as { call: { status: string; costCredits: number; reservedCredits: number } }
      ).call;
      assert.equal(call.status, 'completed');
      assert.equal(call.reservedCredits, 0, 'the result of wait: completed carries the settled cost');
      assert.ok(call.costCredits > 0);
      assert.ok(
        progress.some((m) => /ringing/.test(m)),
        JSON.stringify(progress),
      );
      const balance = await client.readResource({ uri: 'callgate://me/credits/balance' });
      const { available } = JSON.parse(String((balance.contents[0] as { text: string }).text)) as { available: number };
      assert.equal(available, 500 - call.costCredits);
    } finally {
      await client.close();
    }
  });

  it('a stateless request needing a scope the token lacks is 403 insufficient_scope', async () => {
    const token = mintToken(system.jwt, { sub: `reader-${randomUUID()}`, scope: 'calls:read' }, 600);
    const { client } = await modernClient(token);
    try {
      await assert.rejects(
        client.callTool({ name: 'makePhoneCall', arguments: { to: '+14155550001', task: 'x' } }),
        (e: unknown) => /403|insufficient_scope|calls:write/.test(String(e)),
      );
    } finally {
      await client.close();
    }
  });

  it("subscriptions/listen delivers your call's updates, and refuses another user's call", async () => {
    const { client } = await modernClient(tokenFor(system, `listener-${randomUUID()}`));
    const other = await modernClient(tokenFor(system, `snoop-${randomUUID()}`));
    try {
      const placed = await client.callTool({
        name: 'makePhoneCall',
        arguments: { to: '+14155550001', task: 'x', firstMessage: 'hi' },
      });
      const { callId } = (placed.structuredContent as { call: { callId: string } }).call;
      const uri = `callgate://calls/${callId}`;
      await assert.rejects(
        other.client.listen({ resourceSubscriptions: [uri] }),
        (e: unknown) => /not found/i.test(String(e)),
        "another user's call cannot be listened to",
      );
      const updates: string[] = [];
      let ended: () => void = () => undefined;
      const done = new Promise<void>((resolve) => (ended = resolve));
      client.setNotificationHandler('notifications/resources/updated', async (n) => {
        updates.push(n.params.uri);
        const read = await client.readResource({ uri: n.params.uri });
        if (/"status":"completed"/.test(String((read.contents[0] as { text: string }).text))) ended();
      });
      const subscription = await client.listen({ resourceSubscriptions: [uri] });
      await within(done, 'the completed update over subscriptions/listen');
      assert.ok(updates.length >= 1 && updates.every((u) => u === uri), JSON.stringify(updates));
      await subscription.close();
    } finally {
      await client.close();
      await other.client.close();
    }
  });

  it('an unsupported protocol version in a stateless request is 400 naming the supported ones', async () => {
    const res = await fetch(system.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokenFor(system, 'raw')}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2099-01-01',
        'mcp-method': 'tools/list',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      }),
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /2026-07-28/);
  });
});
