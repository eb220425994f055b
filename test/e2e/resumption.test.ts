/**
 * Streamable HTTP resumption (2025-11-25): a client whose SSE stream breaks during a long tool call
 * reconnects with GET and Last-Event-ID and receives what it missed, including the result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { eventually } from '../support/eventually.js';
import { tokenFor } from '../support/system.js';

let system: LocalSystem;
before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: 'silent', SANDBOX_CALL_STEP_MS: '150', SANDBOX_TALK_MS: '300' },
  });
});
after(async () => {
  await system.stop();
});

interface SseEvent {
  id: string;
  data: string;
}

/** Reads SSE events from a response until `stop` says so; returns them. */
async function readEvents(res: Response, stop: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  while (!stop(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const id = /^id: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (id && data) events.push({ id, data });
      end = buffer.indexOf('\n\n');
    }
  }
  await reader.cancel();
  return events;
}

describe('Last-Event-ID resumption', () => {
  it('a broken stream is resumed: the missed progress and the result arrive on the GET', async () => {
    const token = tokenFor(system, `resumer-${Date.now()}`);
    const base = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    const init = await fetch(system.mcpUrl, {
      method: 'POST',
      headers: base,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      }),
    });
    await init.text();
    const session = {
      ...base,
      'mcp-session-id': init.headers.get('mcp-session-id') ?? '',
      'mcp-protocol-version': '2025-11-25',
    };
    await (
      await fetch(system.mcpUrl, {
        method: 'POST',
        headers: session,
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      })
    ).text();

    const network = new AbortController();
    const call = await fetch(system.mcpUrl, {
      method: 'POST',
      signal: network.signal,
      headers: session,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 5,
        method: 'tools/call',
        params: {
          name: 'makePhoneCall',
          arguments: { to: '+14155550001', task: 'x', wait: 'completed' },
          _meta: { progressToken: 'p1' },
        },
      }),
    });
    assert.equal(call.headers.get('content-type'), 'text/event-stream');
    // Read the first progress notification, then drop the stream as a flaky network would.
    const first = await readEvents(call, (events) => events.length >= 1);
    assert.match(first[0]?.data ?? '', /notifications\/progress/);
    network.abort();

    // The server learns of the broken connection a moment later; until then the stream counts as open (409),
    // so it is asked again until it is free.
    const resumed = await eventually('the stream to be free to resume', async () => {
      const res = await fetch(system.mcpUrl, {
        method: 'GET',
        headers: { ...session, accept: 'text/event-stream', 'last-event-id': first[0]?.id ?? '' },
      });
      if (res.status !== 409) return res;
      await res.text();
      return undefined;
    });
    assert.equal(resumed.status, 200);
    const rest = await readEvents(resumed, (events) => events.some((e) => e.data.includes('"id":5')));
    const result = rest.find((e) => e.data.includes('"id":5'));
    assert.ok(result, 'the tool result arrives on the resumed stream');
    assert.match(result.data, /"status":"completed"/);
    assert.ok(
      rest.some((e) => /ringing|in progress/.test(e.data)),
      'progress sent while the stream was down is replayed',
    );
    assert.ok(!rest.some((e) => e.id === first[0]?.id), 'nothing already received is sent again');
  });
});
