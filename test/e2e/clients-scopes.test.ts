/**
 * Scopes beyond tools/call and resources/read: every method that reveals or streams call data asks
 * for calls:read. A token with only profile:read, for a user who has calls, learns nothing about them
 * from resources/list, and may neither resources/subscribe to a call (2025 sessions, HTTP and
 * WebSocket) nor subscriptions/listen to one (2026-07-28); its own scope still works.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '@callgate/gateway';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { httpClient, tokenFor, wsClient } from '../support/system.js';

let system: LocalSystem;
/** A user with one call, and a token of theirs that carries only profile:read. */
const user = `scoped-${randomUUID()}`;
let callUri: string;
let profileOnly: string;

before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: 'silent', SANDBOX_CALL_STEP_MS: '40', SANDBOX_TALK_MS: '200' },
  });
  const owner = await httpClient(system, tokenFor(system, user));
  try {
    const placed = await owner.callTool({ name: 'makePhoneCall', arguments: { to: '+14155550001', task: 'x' } });
    callUri = `callgate://calls/${(placed.structuredContent as { call: { callId: string } }).call.callId}`;
    const listed = await owner.listResources();
    assert.ok(
      listed.resources.some((r) => r.uri === callUri),
      'with calls:read, the call is listed (else the test below proves nothing)',
    );
  } finally {
    await owner.close();
  }
  profileOnly = mintToken(system.jwt, { sub: user, scope: 'profile:read' }, 600);
});
after(async () => {
  await system.stop();
});

/** Whether an error is the scope refusal: HTTP 403 insufficient_scope, or -32003 over WebSocket. */
const insufficientScope = (e: unknown) =>
  (e as { code?: number }).code === -32003 || /403|insufficient[_ ]scope/i.test(String(e));

for (const [name, connect] of [
  ['Streamable HTTP', httpClient],
  ['WebSocket', wsClient],
] as const) {
  describe(`without calls:read over ${name}`, () => {
    it('resources/list names none of the calls, and still lists what the token may read', async () => {
      const client = await connect(system, profileOnly);
      try {
        const { resources } = await client.listResources();
        const calls = resources.filter((r) => r.uri.startsWith('callgate://calls'));
        assert.deepEqual(calls, [], 'no call ids, numbers or statuses');
        assert.ok(
          resources.some((r) => r.uri === 'callgate://me/profile'),
          JSON.stringify(resources.map((r) => r.uri)),
        );
      } finally {
        await client.close();
      }
    });

    it('resources/subscribe to a call is refused naming the scope; the profile may be subscribed to', async () => {
      const client = await connect(system, profileOnly);
      try {
        await assert.rejects(client.subscribeResource({ uri: callUri }), (e: unknown) => {
          assert.ok(insufficientScope(e), String(e));
          assert.match(String((e as Error).message) + JSON.stringify((e as { data?: unknown }).data), /calls:read/);
          return true;
        });
        await assert.rejects(client.subscribeResource({ uri: 'callgate://calls' }), insufficientScope);
        await client.subscribeResource({ uri: 'callgate://me/profile' });
        // Unsubscribing asks the same: its answer must not tell whether the call is watched.
        await assert.rejects(client.unsubscribeResource({ uri: callUri }), (e: unknown) => {
          assert.ok(insufficientScope(e), String(e));
          return true;
        });
      } finally {
        await client.close();
      }
    });

    it('tasks/get, tasks/result and tasks/cancel are refused as a tool is, naming the scope', async () => {
      const client = await connect(system, profileOnly);
      const taskId = callUri.slice('callgate://calls/'.length);
      try {
        for (const [method, request, scope] of [
          ['tasks/get', () => client.experimental.tasks.getTask(taskId), 'calls:read'],
          ['tasks/result', () => client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema), 'calls:read'],
          ['tasks/cancel', () => client.experimental.tasks.cancelTask(taskId), 'calls:write'],
        ] as const) {
          await assert.rejects(request(), (e: unknown) => {
            assert.ok(insufficientScope(e), `${method}: ${String(e)}`);
            assert.match(
              String((e as Error).message) + JSON.stringify((e as { data?: unknown }).data),
              new RegExp(scope),
            );
            return true;
          });
        }
      } finally {
        await client.close();
      }
    });
  });
}

describe('without calls:read over 2026-07-28', () => {
  it('subscriptions/listen to a call is refused naming the scope', async () => {
    const client = new ModernClient(
      { name: 'callgate-scope-test', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new ModernTransport(new URL(system.mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${profileOnly}` } },
      }),
    );
    try {
      await assert.rejects(client.listen({ resourceSubscriptions: [callUri] }), (e: unknown) => {
        assert.ok(insufficientScope(e), String(e));
        assert.match(String(e), /calls:read/);
        return true;
      });
      const { resources } = await client.listResources();
      assert.deepEqual(
        resources.filter((r) => r.uri.startsWith('callgate://calls/')),
        [],
        'resources/list of the stateless revision hides the calls too',
      );
    } finally {
      await client.close();
    }
  });

  it('tasks/get is refused with 403 insufficient_scope naming calls:read', async () => {
    const taskId = callUri.slice('callgate://calls/'.length);
    const res = await fetch(system.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${profileOnly}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tasks/get',
        'mcp-name': taskId,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tasks/get',
        params: {
          taskId,
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientInfo': { name: 'callgate-scope-test', version: '1.0.0' },
            'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } },
          },
        },
      }),
    });
    const text = await res.text();
    assert.equal(res.status, 403, text);
    assert.match(
      res.headers.get('www-authenticate') ?? '',
      /insufficient_scope.*calls:read|calls:read.*insufficient_scope/,
    );
  });
});
