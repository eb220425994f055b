import { type McpServer, ResourceTemplate, type ServerContext } from '@modelcontextprotocol/server';
import type { Backends } from '../backends.js';
import { resourceErrorFrom } from '../grpc-errors.js';
import { statusOf } from '../tools/call-status.js';
import { callView, callViewOrNull } from '../tools/call-view.js';
import { needs, SCOPES } from '../tools/scopes.js';

export const CALL_URIS = {
  history: 'callgate://calls',
  call: 'callgate://calls/{callId}',
} as const;

const json = (uri: string, value: unknown) => ({
  contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(value) }],
});

/** Call history and each call as resources; a call's URI is only readable by its owner. */
export function registerCallResources(server: McpServer, backends: Backends): void {
  const recent = async (ctx: ServerContext, pageSize: number) => {
    const userId = await backends.users.ensure(ctx.http?.authInfo);
    return backends.call.listCalls(
      { userId, pageSize, pageToken: '', statuses: [], createdAfter: '', createdBefore: '', number: '' },
      { signal: ctx.mcpReq.signal },
    );
  };

  server.registerResource(
    'call-history',
    CALL_URIS.history,
    {
      title: 'Your recent calls',
      description: 'Your 50 most recent calls, newest first; getCallHistory pages further and filters.',
      mimeType: 'application/json',
      scopeChallenge: needs(SCOPES.callsRead),
    },
    async (uri, ctx) => {
      try {
        const page = await recent(ctx, 50);
        return json(uri.href, { calls: page.calls.map(callView), nextCursor: page.nextPageToken || null });
      } catch (error) {
        resourceErrorFrom(error, uri.href);
      }
    },
  );

  server.registerResource(
    'call',
    new ResourceTemplate(CALL_URIS.call, {
      // Lists your 20 latest calls, so a client can offer them without calling a tool.
      list: async (ctx) => {
        const page = await recent(ctx, 20);
        return {
          resources: page.calls.map((call) => ({
            uri: `callgate://calls/${call.callId}`,
            name: `call ${call.callId}`,
            title: `Call to ${call.to} (${statusOf(call.status)})`,
            mimeType: 'application/json',
          })),
        };
      },
      // Declares completion for callId. The SDK gives this callback no auth, so call-completion.ts
      // answers callId completions per user in front of it; this one is reached by nothing.
      complete: { callId: () => [] },
    }),
    {
      title: 'A call',
      description: 'One of your calls: status, timeline, cost, transcript and outcome.',
      mimeType: 'application/json',
      scopeChallenge: needs(SCOPES.callsRead),
    },
    async (uri, variables, ctx) => {
      try {
        const userId = await backends.users.ensure(ctx.http?.authInfo);
        const callId = Array.isArray(variables.callId) ? (variables.callId[0] ?? '') : (variables.callId ?? '');
        const { call } = await backends.call.getCall({ userId, callId }, { signal: ctx.mcpReq.signal });
        return json(uri.href, callViewOrNull(call));
      } catch (error) {
        resourceErrorFrom(error, uri.href);
      }
    },
  );
}
