/**
 * Found from outside (attack1, after issue 17 items 4 and 6): streams that outlive their admission.
 * - A WebSocket is now closed when its token expires, but the HTTP streams are not: a 2025 session's
 *   GET event stream and a 2026-07-28 subscriptions/listen stream keep receiving notifications and
 *   keep-alives for ever after `exp`.
 * - A listen request aborted by the client while the gateway checks its URIs (one GetCall per URI)
 *   keeps its per-user listen slot for ever: the slot is reserved after the client has gone and waits
 *   for a 'close' that was already emitted. A few aborted listens lock the user out of listening.
 * Each test uses users of its own.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { mintToken, USER_SCOPES } from '@callgate/gateway';
import type { LocalSystem } from '../../scripts/local-system.js';
import { startLocalSystem } from '../../scripts/local-system.js';
import { callToolRaw } from '../support/raw-mcp.js';
import { tokenFor } from '../support/system.js';

const LISTENS_PER_USER = 2;
/** Guards only against a hang of the defect itself; every wait below is on an event. */
const HANG_GUARD_MS = 60_000;

let system: LocalSystem;
before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      MCP_MAX_LISTEN_STREAMS_PER_USER: String(LISTENS_PER_USER),
      // Above the default (100): the abort test needs listens whose URI checks take long enough to leave.
      MCP_MAX_LISTEN_URIS: '1000',
      RATE_LIMIT_BURST: '1000',
      RATE_LIMIT_PER_MINUTE: '60000',
      JWT_CLOCK_TOLERANCE_SECONDS: '0',
    },
  });
});
after(async () => {
  await system.stop();
});

const newUser = (name: string) => `${name}-${randomUUID()}`;
const MODERN_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'attack', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const listenBody = (uris: string[]) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'subscriptions/listen',
    params: { notifications: { resourceSubscriptions: uris }, _meta: MODERN_META },
  });
const listenHeaders = (token: string) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'subscriptions/listen',
});

/** Reads a response body to its end (the stream closing); resolves with what arrived. */
async function untilEnd(res: Response): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk);
  } catch {
    // A reset is an end too.
  }
  return text;
}

/** A token of `seconds` that the gateway still accepts when `open` runs (a busy machine may be slow). */
async function withShortToken(userId: string, seconds: number, open: (token: string) => Promise<Response>) {
  for (;;) {
    const res = await open(mintToken(system.jwt, { sub: userId, scope: USER_SCOPES }, seconds));
    if (res.status !== 401) return res;
    await res.text();
  }
}

describe('attack: HTTP streams end when their token expires', () => {
  it('a 2025 session GET event stream is closed at the token expiry', { timeout: HANG_GUARD_MS }, async () => {
    const userId = newUser('sse-expiry');
    let token = '';
    const init = await withShortToken(userId, 3, (t) => {
      token = t;
      return fetch(system.mcpUrl, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${t}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
        }),
      });
    });
    assert.equal(init.status, 200);
    await init.text();
    const sessionId = init.headers.get('mcp-session-id') ?? '';
    const headers = {
      authorization: `Bearer ${token}`,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
    };
    const stream = await fetch(system.mcpUrl, { method: 'GET', headers: { ...headers, accept: 'text/event-stream' } });
    if (stream.status === 401) return; // expired before the stream opened: nothing to stream
    assert.equal(stream.status, 200);
    // Today it never ends: keep-alives and notifications continue after exp.
    await untilEnd(stream);
  });

  it('a 2026-07-28 subscriptions/listen stream is closed at the token expiry', { timeout: HANG_GUARD_MS }, async () => {
    const userId = newUser('listen-expiry');
    const stream = await withShortToken(userId, 3, (t) =>
      fetch(system.mcpUrl, { method: 'POST', headers: listenHeaders(t), body: listenBody(['callgate://calls']) }),
    );
    assert.equal(stream.status, 200);
    await untilEnd(stream);
  });
});

describe('attack: an aborted listen gives its slot back', () => {
  it('listens aborted while their URIs are checked do not lock the user out of listening', {
    timeout: HANG_GUARD_MS,
  }, async () => {
    const userId = newUser('listen-abort');
    const token = tokenFor(system, userId);
    // A call of the user's own, so that each URI costs the gateway a GetCall before it admits the stream.
    const call = await callToolRaw(system, token, 'makePhoneCall', {
      to: '+14155550002',
      task: 'attack test',
      idempotencyKey: `attack-${randomUUID()}`,
      maxDurationSeconds: 30,
    });
    assert.ok(!call.isError, JSON.stringify(call));
    const callId = (call.structuredContent as { call: { callId: string } }).call.callId;
    const body = listenBody(Array.from({ length: 1000 }, () => `callgate://calls/${callId}`));
    const url = new URL(system.mcpUrl);
    // Send the whole request, then go away before any answer, while the gateway is still checking the
    // 1,000 URIs (seconds of GetCalls). Going away earlier, before the body is read, would only make the
    // test miss the defect, never fail on a fixed gateway.
    await Promise.all(
      Array.from(
        { length: LISTENS_PER_USER + 1 },
        () =>
          new Promise<void>((resolve) => {
            const req = http.request({
              host: url.hostname,
              port: url.port,
              path: url.pathname,
              method: 'POST',
              headers: { ...listenHeaders(token), 'content-length': Buffer.byteLength(body) },
            });
            req.on('error', () => resolve());
            req.on('close', () => resolve());
            req.end(body, () => setTimeout(() => req.destroy(), 300));
          }),
      ),
    );
    // The same listen, not aborted, twice in a row: the first one's URIs are checked alongside those of
    // the aborted ones, which started first; the second starts after the first is answered, when they
    // are done with. A gateway that gave their slots back admits both; today they hold every slot for
    // ever and the second (or already the first) is refused with 429.
    for (const attempt of [1, 2]) {
      const ac = new AbortController();
      const res = await fetch(system.mcpUrl, {
        method: 'POST',
        headers: listenHeaders(token),
        body,
        signal: ac.signal,
      });
      const refusal = res.status === 200 ? '' : await res.text();
      ac.abort();
      assert.equal(
        res.status,
        200,
        `listen ${attempt} after ${LISTENS_PER_USER + 1} aborted ones was refused: ${refusal}`,
      );
    }
  });
});
