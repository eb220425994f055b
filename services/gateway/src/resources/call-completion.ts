import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import { resourceErrorFrom } from '../grpc-errors.js';
import { wrapSdkHandler } from '../sdk-internals.js';
import { SCOPES } from '../tools/scopes.js';
import { CALL_URIS } from './calls.js';

/** The spec caps a completion at 100 values. */
const MAX_VALUES = 100;
/** How many recent calls are searched for matching ids: enough for an agent choosing a call it made. */
const SEARCHED_CALLS = 100;

const completeParams = z.object({
  ref: z.union([
    z.object({ type: z.literal('ref/resource'), uri: z.string() }),
    z.object({ type: z.literal('ref/prompt'), name: z.string() }),
  ]),
  argument: z.object({ name: z.string(), value: z.string().max(256) }),
  context: z.object({ arguments: z.record(z.string(), z.string()).optional() }).optional(),
});

/**
 * completion/complete for `callgate://calls/{callId}`: the caller's own recent call ids that start
 * with what they typed, newest first. The SDK's per-template completer is not given the request's
 * auth, and completions must be per user, so the gateway answers them in front of the SDK's handler.
 */
export function registerCallCompletion(server: McpServer, backends: Backends): void {
  wrapSdkHandler(server, 'completion/complete', async (request, ctx, sdk) => {
    const parsed = completeParams.safeParse(request.params);
    // Everything but callId of a call URI is the SDK's: its errors, and completers registered on it.
    if (!parsed.success || parsed.data.ref.type !== 'ref/resource' || parsed.data.ref.uri !== CALL_URIS.call) {
      return sdk(request, ctx);
    }
    const { ref, argument } = parsed.data;
    const empty = { completion: { values: [], total: 0, hasMore: false } };
    const auth = ctx.http?.authInfo;
    // Without calls:read the caller may not see call ids; an empty list says no more than a refusal would.
    if (argument.name !== 'callId' || !auth?.scopes.includes(SCOPES.callsRead)) return empty;
    let page: Awaited<ReturnType<typeof backends.call.listCalls>>;
    try {
      const userId = await backends.users.ensure(auth);
      page = await backends.call.listCalls(
        {
          userId,
          pageSize: SEARCHED_CALLS,
          pageToken: '',
          statuses: [],
          createdAfter: '',
          createdBefore: '',
          number: '',
        },
        { signal: ctx.mcpReq.signal },
      );
    } catch (error) {
      resourceErrorFrom(error, ref.uri);
    }
    const prefix = argument.value.toLowerCase();
    const matches = page.calls.map((call) => call.callId).filter((id) => id.startsWith(prefix));
    return {
      completion: {
        values: matches.slice(0, MAX_VALUES),
        total: matches.length,
        hasMore: matches.length > MAX_VALUES || page.nextPageToken !== '',
      },
    };
  });
}
