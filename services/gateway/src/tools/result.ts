import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { userIdOf } from '../auth.js';
import { toolErrorFrom } from '../grpc-errors.js';
import type { UserDirectory } from '../user-directory.js';

/** The caller of a tool, as every handler needs it. */
export interface ToolCall {
  userId: string;
  /** The scopes of the caller's token. */
  scopes: readonly string[];
  signal: AbortSignal;
  /**
   * Sends notifications/progress for this request when the client asked for it (a progressToken in
   * _meta); otherwise does nothing. Progress must grow with each call, as the spec requires.
   */
  progress(progress: number, message: string, total?: number): Promise<void>;
}

/**
 * Wraps a tool body that calls gRPC: gives it the authenticated user (created on first sight when
 * `users` is given), returns its value as
 * structuredContent plus a readable text block, and maps gRPC failures through one table.
 */
export function grpcTool<A>(
  body: (args: A, call: ToolCall) => Promise<Record<string, unknown>>,
  options: { users?: UserDirectory } = {},
) {
  return async (args: A, ctx: ServerContext): Promise<CallToolResult> => {
    const auth = ctx.http?.authInfo;
    const token = ctx.mcpReq._meta?.progressToken;
    const call: ToolCall = {
      userId: userIdOf(auth),
      scopes: auth?.scopes ?? [],
      signal: ctx.mcpReq.signal,
      progress: async (progress, message, total) => {
        if (token === undefined) return;
        await ctx.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken: token, progress, message, ...(total === undefined ? {} : { total }) },
        });
      },
    };
    try {
      // Tools on user data make sure the user exists first; catalogue tools do not need a user.
      await options.users?.ensure(auth);
      const value = await body(args, call);
      return { structuredContent: value, content: [{ type: 'text', text: JSON.stringify(value) }] };
    } catch (error) {
      return toolErrorFrom(error);
    }
  };
}
