import type { ServerResponse } from 'node:http';
import {
  type AuthInfo,
  bearerAuthChallengeResponse,
  type JSONRPCRequest,
  type McpServer,
  OAuthError,
  OAuthErrorCode,
  type ScopeChallenge,
} from '@modelcontextprotocol/server';
import { wrapSdkHandler } from './sdk-internals.js';

/**
 * The SDK checks scopes only for tools/call, resources/read and prompts/get. Listing, subscribing and
 * listening reveal or stream the same data, so each asks what reading the resource asks: the scope
 * declared once, on the resource's registration (its scopeChallenge), never restated here.
 */
export function guardResourceScopes(server: McpServer): void {
  const sdk = server.resolveScopeChallenge;
  server.resolveScopeChallenge = async (context) => {
    const { method, params } = context.request;
    // Unsubscribing asks what subscribing asks: else its answer tells a token without the scope
    // whether a call is watched.
    if ((method === 'resources/subscribe' || method === 'resources/unsubscribe') && typeof params?.uri === 'string') {
      return described(await readChallenge(server, params.uri, context.authInfo), method, params.uri);
    }
    if (method === 'subscriptions/listen') {
      for (const uri of listenedUris(context.request)) {
        const challenge = await readChallenge(server, uri, context.authInfo);
        if (challenge) return described(challenge, method, uri);
      }
      return undefined;
    }
    return sdk(context);
  };
  // Resource templates list their instances (a user's calls: ids, numbers, statuses); only what the
  // token may read is listed, so a token without calls:read learns nothing of the calls.
  wrapSdkHandler(server, 'resources/list', async (request, ctx, list) => {
    const result = await list(request, ctx);
    const listed = (result.resources ?? []) as { uri: string }[];
    const readable = await Promise.all(
      listed.map(async (r) => (await readChallenge(server, r.uri, ctx.http?.authInfo)) === undefined),
    );
    return { ...result, resources: listed.filter((_, i) => readable[i]) };
  });
}

/**
 * Over 2026-07-28 HTTP the SDK serves subscriptions/listen before any scope check: answers 403
 * insufficient_scope (as for a tool) when a listened resource needs a scope the token lacks, and
 * returns whether it did.
 */
export async function refuseListenWithoutScope(
  newServer: () => McpServer,
  message: unknown,
  authInfo: AuthInfo | undefined,
  res: ServerResponse,
): Promise<boolean> {
  const request = message as JSONRPCRequest;
  if (request?.method !== 'subscriptions/listen') return false;
  // A server built like the one that would serve it (same registrations); never connected, it holds nothing.
  const challenge = await newServer().resolveScopeChallenge({ request, ...(authInfo && { authInfo }) });
  if (!challenge) return false;
  const response = bearerAuthChallengeResponse(
    new OAuthError(OAuthErrorCode.InsufficientScope, challenge.errorDescription ?? 'Insufficient scope'),
    { requiredScopes: [...challenge.scopes] },
  );
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers).end(await response.text());
  return true;
}

function readChallenge(server: McpServer, uri: string, authInfo: AuthInfo | undefined) {
  return server.resolveScopeChallenge({
    request: { jsonrpc: '2.0', id: 0, method: 'resources/read', params: { uri } },
    ...(authInfo && { authInfo }),
  });
}

/** Names the method, resource and scope, so the refusal says what to ask for (RFC 6750 grammar: no quotes). */
function described(challenge: ScopeChallenge | undefined, method: string, uri: string): ScopeChallenge | undefined {
  if (!challenge) return undefined;
  const safeUri = uri.replace(/[^\u0020-\u0021\u0023-\u005B\u005D-\u007E]/g, '?');
  return { ...challenge, errorDescription: `${method} ${safeUri} needs the scope ${challenge.scopes.join(' ')}` };
}

function listenedUris(request: JSONRPCRequest): string[] {
  const params = request.params as { notifications?: { resourceSubscriptions?: unknown } } | undefined;
  const uris = params?.notifications?.resourceSubscriptions;
  return Array.isArray(uris) ? uris.filter((uri): uri is string => typeof uri === 'string') : [];
}
