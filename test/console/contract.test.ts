/**
 * What the console assumes of the gateway, checked against the gateway's own definitions (the console
 * cannot import server packages into a browser bundle), and how it reads the gateway's refusals.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALL_STATUSES, TERMINAL_STATUSES, WEBHOOK_EVENT_TYPES } from '@callgate/common';
import { snippets } from '../../console/src/snippets.js';
import { fieldsOf, toToolError } from '../../console/src/tool-error.js';
import { CALL_STATUSES as CONSOLE_STATUSES, TERMINAL, WEBHOOK_EVENTS } from '../../console/src/types.js';

describe('the console and the gateway agree', () => {
  it('on the call statuses, in order, and which are final', () => {
    assert.deepEqual([...CONSOLE_STATUSES], [...CALL_STATUSES]);
    assert.deepEqual([...TERMINAL], [...TERMINAL_STATUSES]);
  });

  it('on the webhook event names, in order (the create form offers each as a checkbox)', () => {
    assert.deepEqual([...WEBHOOK_EVENTS], [...WEBHOOK_EVENT_TYPES]);
  });
});

/** The fields as an ordinary object, to compare with a literal. */
const plain = (text: string) => ({ ...fieldsOf(text) });

describe('reading a refusal into field messages', () => {
  it('takes the SDK validation message apart by path, nested paths also under their parent', () => {
    const text =
      'Input validation error: Invalid arguments for tool updateCallPreferences: maxCallDurationSeconds: Too small: expected number to be >=30, quietHours.start: HH:MM, 24-hour';
    assert.deepEqual(plain(text), {
      maxCallDurationSeconds: 'Too small: expected number to be >=30',
      'quietHours.start': 'HH:MM, 24-hour',
      quietHours: 'HH:MM, 24-hour',
    });
  });

  it('reads a backend\'s "field: message" and a JSON-RPC error\'s data.field', () => {
    assert.deepEqual(plain('timezone: unknown time zone "Mars/Base"; use an IANA name such as Europe/Berlin'), {
      timezone: 'unknown time zone "Mars/Base"; use an IANA name such as Europe/Berlin',
    });
    const error = toToolError(
      Object.assign(new Error('MCP error -32602: caller id not yours'), {
        code: -32602,
        data: { field: 'callerId' },
      }),
    );
    assert.equal(error.message, 'caller id not yours');
    assert.equal(error.fields.callerId, 'caller id not yours');
    assert.equal(error.code, -32602);
  });

  it('names no field for a message without one, and survives hostile text', () => {
    assert.deepEqual(plain('Unrecognized key: "colour"'), {});
    assert.deepEqual(plain('internal error'), {});
    assert.deepEqual(plain(`${'a'.repeat(100_000)}\u0000: x`), {});
    assert.equal(Object.getOwnPropertyDescriptor(fieldsOf('__proto__: polluted'), '__proto__')?.value, 'polluted');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('connect-your-client snippets', () => {
  it("carry this deployment's URL, and the JSON ones parse", () => {
    const url = 'https://callgate.example/mcp';
    const all = snippets(url);
    assert.deepEqual(
      all.map((s) => s.client),
      ['Claude Code', 'Claude Desktop', 'Cursor', 'VS Code', 'MCP Inspector'],
    );
    for (const s of all) {
      assert.ok(s.text.includes(url), s.client);
      if (s.text.startsWith('{')) JSON.parse(s.text);
    }
  });
});
