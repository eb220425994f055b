/**
 * The MCP status vocabulary covers the gRPC contract: every CallStatus and CancelOutcome the call service
 * can send (read from the loaded .proto, not from the gateway's own table) has a lowercase word, and the
 * words map back to the same enum names.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadProto } from '@callgate/common';
import {
  CALL_STATUSES,
  CANCEL_OUTCOMES,
  cancelOutcomeOf,
  isTerminalStatus,
  statusOf,
  TERMINAL_STATUSES,
  toProtoStatus,
} from './call-status.js';

const v1 = loadProto('call').callgate.call.v1 as unknown as Record<string, { type: { value: { name: string }[] } }>;
const enumNames = (name: string) =>
  (v1[name]?.type.value ?? []).map((v) => v.name).filter((n) => !n.endsWith('_UNSPECIFIED'));

describe('call statuses on the MCP surface', () => {
  it('every CallStatus of the proto has a lowercase word, and back', () => {
    const proto = enumNames('CallStatus');
    assert.ok(proto.length >= 9, `read the enum (${proto.length})`);
    assert.deepEqual(proto.map(statusOf).sort(), [...CALL_STATUSES].sort());
    for (const name of proto) {
      assert.match(statusOf(name), /^[a-z]+(-[a-z]+)*$/);
      assert.equal(toProtoStatus(statusOf(name)), name);
    }
  });

  it('the final statuses are the ones the README names', () => {
    assert.deepEqual([...TERMINAL_STATUSES].sort(), ['busy', 'canceled', 'completed', 'failed', 'no-answer']);
    assert.equal(isTerminalStatus('CALL_STATUS_NO_ANSWER'), true);
    assert.equal(isTerminalStatus('CALL_STATUS_IN_PROGRESS'), false);
  });

  it('every CancelOutcome of the proto has a lowercase word', () => {
    const proto = enumNames('CancelOutcome');
    assert.deepEqual(proto.map(cancelOutcomeOf).sort(), [...CANCEL_OUTCOMES].sort());
  });
});
