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

  it('refuses every request of a batch that shares an id, naming the id; 1 and "1" are different ids', () => {
    const checked = checkJsonRpc(
      JSON.stringify([
        { jsonrpc: '2.0', id: 'same', method: 'ping' },
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', id: 'same', method: 'tools/list' },
        { jsonrpc: '2.0', id: '1', method: 'ping' },
      ]),
    );
    assert.ok(checked.ok);
    assert.deepEqual(
      checked.entries.map((e) => (e.ok ? 'ok' : [e.id, e.error.code])),
      [['same', -32600], 'ok', ['same', -32600], 'ok'],
    );
    assert.match(
      checked.entries[0]?.ok === false ? checked.entries[0].error.message : '',
      /request id "same" is used by more than one/,
    );
    assert.equal(answersOwed(checked), 4);
  });

  it('refuses a cancellation of a request of its own batch, so that request is answered; others pass', () => {
    const cancel = (requestId: unknown) => ({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId },
    });
    const checked = checkJsonRpc(
      JSON.stringify([{ jsonrpc: '2.0', id: 'n2', method: 'ping' }, cancel('n2'), cancel('earlier'), cancel(7)]),
    );
    assert.ok(checked.ok);
    assert.deepEqual(
      checked.entries.map((e) => (e.ok ? 'ok' : [e.id, e.error.code])),
      ['ok', [null, -32600], 'ok', 'ok'],
    );
    assert.match(
      checked.entries[1]?.ok === false ? checked.entries[1].error.message : '',
      /request "n2" of the same batch/,
    );
    // Outside a batch a cancellation is an ordinary notification.
    assert.equal(checkJsonRpc(JSON.stringify(cancel('n2'))).ok, true);
  });

  it('answers a text that is not JSON with -32700', () => {
    const checked = checkJsonRpc('{"jsonrpc":"2.0"');
    assert.equal(checked.ok ? 0 : checked.error.code, -32700);
  });
});
