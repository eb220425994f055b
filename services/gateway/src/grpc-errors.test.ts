import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invalidArgument, toGrpcStatus } from '@callgate/common';
import { Metadata, status } from '@grpc/grpc-js';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { toolErrorFrom } from './grpc-errors.js';

/** An error shaped as @grpc/grpc-js reports a failed call. */
function grpcError(code: status, details: string, metadata = new Metadata()) {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata });
}

describe('gRPC status → MCP', () => {
  it('INVALID_ARGUMENT becomes JSON-RPC invalid params carrying the field', () => {
    // As the call service sends it: the field in the typed ErrorDetail.
    const { metadata } = toGrpcStatus(invalidArgument('to', 'not E.164'));
    assert.throws(
      () => toolErrorFrom(grpcError(status.INVALID_ARGUMENT, 'to: not E.164', metadata)),
      (e: unknown) =>
        e instanceof ProtocolError &&
        e.code === ProtocolErrorCode.InvalidParams &&
        e.message.includes('to: not E.164') &&
        (e.data as { field: string }).field === 'to',
    );
  });

  for (const code of [status.NOT_FOUND, status.FAILED_PRECONDITION, status.PERMISSION_DENIED, status.UNIMPLEMENTED]) {
    it(`${status[code]} becomes a tool error the model can read, not retryable`, () => {
      const result = toolErrorFrom(grpcError(code, 'call abc was not found'));
      assert.equal(result.isError, true);
      assert.equal((result.content[0] as { text: string }).text, 'call abc was not found');
      assert.equal(result._meta?.['callgate/retryable'], false);
      assert.equal(result._meta?.['callgate/grpc-status'], status[code]);
    });
  }

  for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED]) {
    it(`${status[code]} becomes a tool error that says to retry`, () => {
      const result = toolErrorFrom(grpcError(code, 'call service unavailable'));
      assert.equal(result.isError, true);
      assert.match((result.content[0] as { text: string }).text, /retry in a few seconds/);
      assert.equal(result._meta?.['callgate/retryable'], true);
    });
  }

  it('INTERNAL and unknown codes become a JSON-RPC internal error without the server’s details', () => {
    for (const code of [status.INTERNAL, status.UNKNOWN, status.DATA_LOSS]) {
      assert.throws(
        () => toolErrorFrom(grpcError(code, 'stack trace: secret at db.ts:12')),
        (e: unknown) =>
          e instanceof ProtocolError && e.code === ProtocolErrorCode.InternalError && !e.message.includes('secret'),
      );
    }
  });

  it('an error that is not from gRPC is rethrown unchanged', () => {
    const original = new TypeError('bug');
    assert.throws(
      () => toolErrorFrom(original),
      (e: unknown) => e === original,
    );
  });
});
