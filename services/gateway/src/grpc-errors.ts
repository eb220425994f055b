import { errorDetailOf, isGrpcError } from '@callgate/common';
import { status } from '@grpc/grpc-js';
import {
  type CallToolResult,
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
} from '@modelcontextprotocol/server';

/**
 * How a failed gRPC call reaches an MCP client, in one table. Client mistakes the tool's schema
 * could not catch become JSON-RPC invalid params; conditions an agent can act on become a tool
 * result with isError, so the model reads the message; outages say they are worth retrying.
 */
type Outcome = { kind: 'protocol'; code: ProtocolErrorCode } | { kind: 'tool'; retryable: boolean };

const OUTCOME_BY_STATUS: Partial<Record<status, Outcome>> = {
  [status.INVALID_ARGUMENT]: { kind: 'protocol', code: ProtocolErrorCode.InvalidParams },
  [status.OUT_OF_RANGE]: { kind: 'protocol', code: ProtocolErrorCode.InvalidParams },
  [status.NOT_FOUND]: { kind: 'tool', retryable: false },
  [status.ALREADY_EXISTS]: { kind: 'tool', retryable: false },
  [status.FAILED_PRECONDITION]: { kind: 'tool', retryable: false },
  [status.PERMISSION_DENIED]: { kind: 'tool', retryable: false },
  [status.RESOURCE_EXHAUSTED]: { kind: 'tool', retryable: true },
  [status.UNIMPLEMENTED]: { kind: 'tool', retryable: false },
  [status.ABORTED]: { kind: 'tool', retryable: true },
  [status.UNAVAILABLE]: { kind: 'tool', retryable: true },
  [status.DEADLINE_EXCEEDED]: { kind: 'tool', retryable: true },
  [status.CANCELLED]: { kind: 'tool', retryable: true },
};

/** Turns a gRPC failure into a tool result, or throws the JSON-RPC error it stands for. */
export function toolErrorFrom(error: unknown): CallToolResult {
  if (!isGrpcError(error)) throw error;
  const outcome = OUTCOME_BY_STATUS[error.code] ?? { kind: 'protocol', code: ProtocolErrorCode.InternalError };
  if (outcome.kind === 'protocol') {
    const field = errorDetailOf(error)?.field;
    const message = outcome.code === ProtocolErrorCode.InternalError ? 'internal error' : error.details;
    throw new ProtocolError(outcome.code, message, field ? { field: String(field) } : undefined);
  }
  const hint = outcome.retryable ? ' This is temporary: retry in a few seconds.' : '';
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.details}${hint}` }],
    _meta: { 'callgate/grpc-status': status[error.code], 'callgate/retryable': outcome.retryable },
  };
}

/**
 * A failed gRPC call behind resources/read. Reads have no isError result, so everything is a JSON-RPC
 * error: bad parameters are invalid params, a missing record is "resource not found", and outages keep
 * their message and say they are worth retrying.
 */
export function resourceErrorFrom(error: unknown, uri: string): never {
  if (!isGrpcError(error)) throw error;
  const field = errorDetailOf(error)?.field;
  switch (error.code) {
    case status.INVALID_ARGUMENT:
    case status.OUT_OF_RANGE:
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        error.details,
        field ? { field: String(field) } : undefined,
      );
    case status.NOT_FOUND:
      // The SDK's own error: -32602 with the uri, as the 2025-11-25 specification asks.
      throw new ResourceNotFoundError(uri, error.details);
    default: {
      const outcome = OUTCOME_BY_STATUS[error.code];
      if (outcome?.kind === 'tool' && outcome.retryable) {
        throw new ProtocolError(
          ProtocolErrorCode.InternalError,
          `${error.details} This is temporary: retry in a few seconds.`,
          {
            grpcStatus: status[error.code],
            retryable: true,
          },
        );
      }
      throw new ProtocolError(ProtocolErrorCode.InternalError, outcome ? error.details : 'internal error', {
        grpcStatus: status[error.code],
        retryable: false,
      });
    }
  }
}
