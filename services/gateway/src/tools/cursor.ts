import { errorDetailOf } from '@callgate/common';
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';

/**
 * The call service names a bad page token by its gRPC field, pageToken; MCP clients sent `cursor`.
 * Rethrows that refusal as the -32602 "invalid cursor" the MCP pagination rules ask for, naming the
 * parameter the client knows; any other failure passes through unchanged.
 */
export function invalidCursor(error: unknown): never {
  const detail = errorDetailOf(error);
  if (detail?.reason === 'ERROR_REASON_INVALID_FIELD' && detail.field === 'pageToken') {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      'invalid cursor: pass nextCursor from a previous page unchanged, or no cursor for the first page',
      { field: 'cursor' },
    );
  }
  throw error;
}
