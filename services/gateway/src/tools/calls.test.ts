/**
 * makePhoneCall's "outcome unknown": a PlaceCall that got no answer (common's isUnreachable) or was
 * cancelled in flight may have placed the call, so the client is told to check or retry with its key;
 * every other failure, and one the call service says placed nothing, goes through unchanged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invalidArgument, toGrpcStatus, unavailable } from '@callgate/common';
import { Metadata, status } from '@grpc/grpc-js';
import { outcomeUnknown } from './calls.js';

const grpcError = (code: status, details = 'no answer') =>
  Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() });

describe('outcomeUnknown', () => {
  for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED]) {
    it(`${status[code]}: the call may have been placed; the answer names the idempotency key`, () => {
      const answer = outcomeUnknown(grpcError(code), 'key-1') as { code: status; details: string };
      assert.equal(answer.code, status.FAILED_PRECONDITION);
      assert.match(answer.details, new RegExp(`may or may not have been placed \\(${status[code]}: no answer\\)`));
      assert.match(answer.details, /idempotencyKey "key-1"/);
    });
  }

  it('other codes and errors that are not gRPC errors go through unchanged', () => {
    for (const error of [
      grpcError(status.NOT_FOUND),
      grpcError(status.RESOURCE_EXHAUSTED),
      Object.assign(new Error('bad'), toGrpcStatus(invalidArgument('to', 'not a number'))),
      new Error('plain'),
    ]) {
      assert.equal(outcomeUnknown(error, 'key-1'), error);
    }
  });

  it('UNAVAILABLE from the call service saying it placed nothing stays a plain retryable error', () => {
    const error = Object.assign(
      new Error('user-credit down'),
      toGrpcStatus(unavailable('user-credit down', { notPlaced: true })),
    );
    assert.equal(outcomeUnknown(error, 'key-1'), error);
  });
});
