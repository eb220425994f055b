import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answersOwed, checkJsonRpc, MAX_BATCH_ENTRIES, MAX_JSON_DEPTH, nestingDepth } from './jsonrpc-check.js';

describe('checkJsonRpc', () => {
  it('counts nesting without parsing, skipping brackets inside strings and escaped quotes', () => {
    assert.equal(nestingDepth('{"a":[1,{"b":"[[[{{{"}]}'), 3);
    assert.equal(nestingDepth('["\\"[[[", [[]]]'), 3);
    assert.equal(nestingDepth('1'), 0);
  });

  it('refuses a text nested deeper than the limit, and accepts one at the limit', () => {
    const at = `{"jsonrpc":"2.0","id":1,"method":"x","params":${'{"a":'.repeat(MAX_JSON_DEPTH - 1)}1${'}'.repeat(MAX_JSON_DEPTH - 1)}}`;
    assert.equal(checkJsonRpc(at).ok, true);
    const over = `[${at}]`;
    const checked = checkJsonRpc(over);
    assert.equal(checked.ok, false);
    assert.match(checked.ok ? '' : checked.error.message, /nested deeper than 64/);
  });

  it('gives each entry of a batch its own error and id, and owes answers only to requests and refused entries', () => {
    const checked = checkJsonRpc(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 'r', result: {} },
        { jsonrpc: '2.0', id: 2, method: 'ping', params: [1] },
        { jsonrpc: '2.0', id: { a: 1 }, method: 'ping' },
        'x',
      ]),
    );
    assert.ok(checked.ok);
    assert.deepEqual(
      checked.entries.map((e) => (e.ok ? 'ok' : [e.id, e.error.code])),
      ['ok', 'ok', 'ok', [2, -32602], [null, -32600], [null, -32600]],
    );
    assert.equal(answersOwed(checked), 4);
  });

  it('refuses batches where they are not allowed, empty ones and oversized ones with one error', () => {
    const one = JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
    const refused = checkJsonRpc(one, { batchesRefused: 'protocol 2025-11-25 does not allow JSON-RPC batches' });
    assert.deepEqual(refused, {
      ok: false,
      error: { code: -32600, message: 'Invalid Request: protocol 2025-11-25 does not allow JSON-RPC batches' },
    });
    assert.equal(checkJsonRpc('[]').ok, false);
    const big = checkJsonRpc(`[${'1,'.repeat(MAX_BATCH_ENTRIES)}1]`);
    assert.equal(big.ok, false);
    assert.equal(answersOwed(big), 1);
    assert.equal(checkJsonRpc(`[${'1,'.repeat(MAX_BATCH_ENTRIES - 1)}1]`).ok, true);
  });

  it('answers a text that is not JSON with -32700', () => {
    const checked = checkJsonRpc('{"jsonrpc":"2.0"');
    assert.equal(checked.ok ? 0 : checked.error.code, -32700);
  });
});
