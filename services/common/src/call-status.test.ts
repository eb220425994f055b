import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallStatusEnum } from '@callgate/protos';
import {
  ACTIVE_STATUSES,
  advances,
  CALL_STATUSES,
  fromProtoStatus,
  isTerminalProto,
  sqlStatusList,
  TERMINAL_STATUSES,
  toProtoStatus,
} from './call-status.js';

describe('the call status vocabulary', () => {
  it('has one word for every value of the proto enum but UNSPECIFIED, in the enum’s order', () => {
    assert.deepEqual(CALL_STATUSES, [
      'queued',
      'initiated',
      'ringing',
      'in-progress',
      'completed',
      'busy',
      'no-answer',
      'failed',
      'canceled',
    ]);
    assert.equal(CALL_STATUSES.length, Object.keys(CallStatusEnum).length - 1);
    for (const status of CALL_STATUSES) {
      assert.ok(toProtoStatus(status) in CallStatusEnum, status);
      assert.equal(fromProtoStatus(toProtoStatus(status)), status);
    }
    assert.equal(fromProtoStatus('CALL_STATUS_UNSPECIFIED'), undefined);
    assert.equal(fromProtoStatus('CALL_STATUS_ON_HOLD'), undefined);
  });

  it('splits into active and final statuses', () => {
    assert.deepEqual(ACTIVE_STATUSES, ['queued', 'initiated', 'ringing', 'in-progress']);
    assert.deepEqual(TERMINAL_STATUSES, ['completed', 'busy', 'no-answer', 'failed', 'canceled']);
    assert.equal(isTerminalProto('CALL_STATUS_NO_ANSWER'), true);
    assert.equal(isTerminalProto('CALL_STATUS_IN_PROGRESS'), false);
    assert.equal(isTerminalProto('CALL_STATUS_UNSPECIFIED'), false);
  });

  it('moves only forward, may skip, never leaves a final status', () => {
    assert.equal(advances('queued', 'ringing'), true);
    assert.equal(advances('ringing', 'initiated'), false);
    assert.equal(advances('ringing', 'ringing'), false);
    assert.equal(advances('in-progress', 'completed'), true);
    assert.equal(advances('completed', 'failed'), false);
    assert.equal(advances('busy', 'queued'), false);
  });

  it('writes SQL lists of its words', () => {
    assert.equal(sqlStatusList(ACTIVE_STATUSES), "'queued', 'initiated', 'ringing', 'in-progress'");
  });
});
