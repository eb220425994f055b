import { isGrpcError } from '@callgate/common';
import { status } from '@grpc/grpc-js';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';

/**
 * The call service names a bad page token by its gRPC field, pageToken; MCP clients sent `cursor`.
 * Rethrows that refusal as the -32602 "invalid cursor" the MCP pagination rules ask for, naming the
 * parameter the client knows; any other failure passes through unchanged.
 */
export function invalidCursor(error: unknown): never {
  if (
    isGrpcError(error) &&
    error.code === status.INVALID_ARGUMENT &&
    error.metadata?.get('x-callgate-field')[0] === 'pageToken'
  ) {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      'invalid cursor: pass nextCursor from a previous page unchanged, or no cursor for the first page',
      { field: 'cursor' },
    );
  }
  throw error;
}
