import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { userIdOf } from '../auth.js';
import { toolErrorFrom } from '../grpc-errors.js';

/** The caller of a tool, as every handler needs it. */
export interface ToolCall {
  userId: string;
  signal: AbortSignal;
}

/**
 * Wraps a tool body that calls gRPC: gives it the authenticated user, returns its value as
 * structuredContent plus a readable text block, and maps gRPC failures through one table.
 */
export function grpcTool<A>(body: (args: A, call: ToolCall) => Promise<Record<string, unknown>>) {
  return async (args: A, ctx: ServerContext): Promise<CallToolResult> => {
    const call = { userId: userIdOf(ctx.http?.authInfo), signal: ctx.mcpReq.signal };
    try {
      const value = await body(args, call);
      return { structuredContent: value, content: [{ type: 'text', text: JSON.stringify(value) }] };
    } catch (error) {
      return toolErrorFrom(error);
    }
  };
}
