/** How failures a handler did not expect become gRPC statuses: a database outage is retryable, a bug is not. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { isTransientDatabaseError, isUnreachable, toGrpcStatus } from './errors.js';

const pgError = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

describe('toGrpcStatus', () => {
  it('a PostgreSQL restart or a dropped connection is UNAVAILABLE (retry), not INTERNAL', () => {
    for (const error of [
      pgError('terminating connection due to administrator command', '57P01'),
      pgError('the database system is starting up', '57P03'),
      pgError('connection failure', '08006'),
      pgError('Connection terminated unexpectedly'),
      pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
    ]) {
      assert.equal(isTransientDatabaseError(error), true, error.message);
      const s = toGrpcStatus(error);
      assert.equal(s.code, status.UNAVAILABLE, error.message);
      assert.match(s.details, /retry/);
    }
  });

  it('anything else unexpected stays INTERNAL, without its message', () => {
    for (const error of [pgError('duplicate key value', '23505'), new TypeError('x is undefined')]) {
      const s = toGrpcStatus(error);
      assert.equal(s.code, status.INTERNAL);
      assert.doesNotMatch(s.details, /duplicate|undefined/);
    }
  });
});

describe('isUnreachable', () => {
  const grpcError = (code: status) => Object.assign(new Error(`${code}`), { code, details: 'x' });

  it('is true for no answer (UNAVAILABLE) or none in time (DEADLINE_EXCEEDED), false for an answer', () => {
    assert.equal(isUnreachable(grpcError(status.UNAVAILABLE)), true);
    assert.equal(isUnreachable(grpcError(status.DEADLINE_EXCEEDED)), true);
    for (const code of [status.FAILED_PRECONDITION, status.RESOURCE_EXHAUSTED, status.INTERNAL, status.CANCELLED]) {
      assert.equal(isUnreachable(grpcError(code)), false, status[code]);
    }
    assert.equal(isUnreachable(new Error('UNAVAILABLE')), false, 'a message is not a code');
  });
});
