/**
 * Every HTTP batch ends with an answer for each request (a 2025-03-26 session: a revision that still has
 * batches). Found from outside (attack2 of issue 17):
 * - a batch holding a request and a notifications/cancelled for it left the POST open for good: the
 *   cancelled request was not answered and its stream never ended. The gate (jsonrpc-check.ts) now
 *   refuses a cancellation of a request of its own batch, so the request is answered;
 * - a batch of two requests sharing an id got one answer. The gate now refuses the duplicate (-32600),
 *   answering each request under its id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LocalSystem } from '../../scripts/local-system.js';
import { startTestSystem, tokenFor } from '../support/system.js';

let system: LocalSystem;
let token: string;
let session: string;

const headers = () => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-03-26',
  ...(session && { 'mcp-session-id': session }),
});
const post = (body: unknown) =>
  fetch(system.mcpUrl, { method: 'POST', headers: headers(), body: JSON.stringify(body) });

/** The JSON-RPC messages of an answer, whether sent as JSON or as an SSE stream. */
function messages(text: string): { id?: unknown }[] {
  if (text.trimStart().startsWith('[') || text.trimStart().startsWith('{')) return [JSON.parse(text)].flat();
  return text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)));
}

before(async () => {
  system = await startTestSystem();
  token = tokenFor(system, 'attack2-batches');
  session = '';
  const init = await post({
    jsonrpc: '2.0',
    id: 'init',
    method: 'initialize',
    params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'attack2', version: '1' } },
  });
  await init.text();
  session = init.headers.get('mcp-session-id') ?? '';
  assert.ok(session, 'initialize gave no session');
  (await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).body?.cancel();
});
after(async () => {
  await system.stop();
});

describe('HTTP batches on a 2025-03-26 session', () => {
  it('a batch of a request and its cancellation ends its response', async () => {
    const batch = await post([
      { jsonrpc: '2.0', id: 'c1', method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'c1' } },
    ]);
    let ended = false;
    const body = batch.text().then((text) => {
      ended = true;
      return text;
    });
    // The batch was handled (in order) before this later request on the same session is answered.
    const later = await post({ jsonrpc: '2.0', id: 'later', method: 'ping' });
    assert.deepEqual(
      messages(await later.text()).map((m) => m.id),
      ['later'],
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(ended, 'the POST of the cancelled request is still open after later requests were answered');
    // The cancellation is refused (it cannot cancel a request of its own batch), and said so.
    const answers = messages(await body) as { id?: unknown; error?: { message: string } }[];
    assert.ok(
      answers.some(
        (a) =>
          a.id === null && /notifications\/cancelled for request "c1" of the same batch/.test(a.error?.message ?? ''),
      ),
      JSON.stringify(answers).slice(0, 300),
    );
  });

  it('two requests sharing an id get two answers, or the duplicate is refused', async () => {
    const res = await post([
      { jsonrpc: '2.0', id: 'same', method: 'ping' },
      { jsonrpc: '2.0', id: 'same', method: 'tools/list' },
    ]);
    const answers = messages(await res.text()) as { id?: unknown; error?: { code: number; message: string } }[];
    assert.equal(answers.length, 2, `answers: ${JSON.stringify(answers).slice(0, 300)}`);
    // The gateway refuses the duplicate: each request is answered under its id, saying why.
    for (const answer of answers) {
      assert.equal(answer.id, 'same');
      assert.equal(answer.error?.code, -32600);
      assert.match(answer.error?.message ?? '', /request id "same" is used by more than one request/);
    }
  });
});
