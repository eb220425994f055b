import { DomainError, type ErrorKind, toGrpcStatus } from '@callgate/common';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import {
  connectedAppsOutput,
  createdTokenOutput,
  MAX_PERSONAL_TOKEN_DAYS,
  opaqueId,
  personalTokenScope,
  personalTokensOutput,
  revokedAppOutput,
  revokedTokenOutput,
} from './apps-schemas.js';
import { grpcTool } from './result.js';
import { text } from './schemas.js';
import { needs, SCOPES } from './scopes.js';

/** A refusal decided here, shaped as a service's gRPC failure so toolErrorFrom answers it like one. */
const refusal = (kind: ErrorKind, message: string) =>
  Object.assign(new Error(message), toGrpcStatus(new DomainError(kind, message)));

/** The auth service, or a clear refusal when this gateway trusts no authorization server. */
function authOf(backends: Backends): NonNullable<Backends['auth']> {
  if (!backends.auth) {
    throw refusal(
      'failed_precondition',
      'this gateway has no authorization server (AUTH_SERVICE_ADDR), so it keeps no connected apps or personal access tokens',
    );
  }
  return backends.auth;
}

const orNull = (instant: string) => instant || null;

/**
 * The apps:manage tools: the OAuth grants (connected apps) and personal access tokens that act for the
 * caller, listed, revoked and (tokens) created at the auth service, always for the user of the verified
 * token. Another user's grant or token id is answered "not found" exactly as an unknown one.
 */
export function registerAppTools(server: McpServer, backends: Backends): void {
  const manage = { scopeChallenge: needs(SCOPES.appsManage) };

  server.registerTool(
    'listConnectedApps',
    {
      title: 'Connected apps',
      description:
        'The apps you let act for you (your OAuth grants): their scopes, when you granted them and when they were last used.',
      inputSchema: z.strictObject({}),
      outputSchema: connectedAppsOutput,
      ...manage,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(async (_args, call) => {
      const { grants } = await authOf(backends).listGrants({ userId: call.userId }, { signal: call.signal });
      return {
        apps: grants.map((g) => ({
          grantId: g.grantId,
          clientId: g.clientId,
          clientName: g.clientName,
          scopes: g.scopes,
          grantedAt: g.grantedAt,
          lastUsedAt: orNull(g.lastUsedAt),
        })),
      };
    }),
  );

  server.registerTool(
    'revokeConnectedApp',
    {
      title: 'Revoke a connected app',
      description:
        'Ends an app’s access: its grant and every token of it. The app is refused within seconds and must ask you again.',
      inputSchema: z.strictObject({ grantId: opaqueId('grantId from listConnectedApps') }),
      outputSchema: revokedAppOutput,
      ...manage,
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: false, readOnlyHint: false },
    },
    grpcTool(async (args, call) => {
      await authOf(backends).revokeGrant({ userId: call.userId, grantId: args.grantId }, { signal: call.signal });
      return { grantId: args.grantId, revoked: true };
    }),
  );

  server.registerTool(
    'listPersonalTokens',
    {
      title: 'Personal access tokens',
      description:
        'Your live personal access tokens (not revoked, not expired). The tokens themselves are never shown again.',
      inputSchema: z.strictObject({}),
      outputSchema: personalTokensOutput,
      ...manage,
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(async (_args, call) => {
      const { tokens } = await authOf(backends).listPersonalTokens({ userId: call.userId }, { signal: call.signal });
      return { tokens: tokens.map((t) => ({ ...t, lastUsedAt: orNull(t.lastUsedAt) })) };
    }),
  );

  server.registerTool(
    'createPersonalToken',
    {
      title: 'Create a personal access token',
      description:
        'A token for a script or agent that cannot sign in with a browser: named, with the scopes you choose (at most ' +
        'those you hold now), expiring. The token is in the result only this once: keep it secret.',
      inputSchema: z.strictObject({
        name: text(64).min(1).describe('What the token is for, so you recognise it in the list.'),
        scopes: z
          .array(personalTokenScope)
          .min(1)
          .max(personalTokenScope.options.length)
          .refine((scopes) => new Set(scopes).size === scopes.length, 'each scope once')
          .describe('What the token may do; never admin or apps:manage.'),
        expiresInDays: z.number().int().min(1).max(MAX_PERSONAL_TOKEN_DAYS).describe('Days until it stops working.'),
      }),
      outputSchema: createdTokenOutput,
      ...manage,
      annotations: { destructiveHint: false, idempotentHint: false, openWorldHint: false, readOnlyHint: false },
    },
    grpcTool(async (args, call) => {
      // A token never holds more than the sign-in that made it: an app granted calls:read and apps:manage
      // cannot mint itself calls:write.
      const beyond = args.scopes.filter((scope) => !call.scopes.includes(scope));
      if (beyond.length) {
        throw refusal(
          'permission_denied',
          `your own sign-in does not hold ${beyond.join(', ')}, so a token you create cannot either; choose from ${
            args.scopes.filter((scope) => call.scopes.includes(scope)).join(', ') || 'the scopes you hold'
          }`,
        );
      }
      const { info, token } = await authOf(backends).createPersonalToken(
        { userId: call.userId, name: args.name, scopes: args.scopes, expiresInDays: args.expiresInDays },
        { signal: call.signal },
      );
      if (!info) throw refusal('internal', 'the auth service returned no token');
      return {
        tokenId: info.tokenId,
        name: info.name,
        scopes: info.scopes,
        createdAt: info.createdAt,
        expiresAt: info.expiresAt,
        token,
      };
    }),
  );

  server.registerTool(
    'revokePersonalToken',
    {
      title: 'Revoke a personal access token',
      description: 'The token stops working within seconds, everywhere.',
      inputSchema: z.strictObject({ tokenId: opaqueId('tokenId from listPersonalTokens') }),
      outputSchema: revokedTokenOutput,
      ...manage,
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: false, readOnlyHint: false },
    },
    grpcTool(async (args, call) => {
      await authOf(backends).revokePersonalToken(
        { userId: call.userId, tokenId: args.tokenId },
        { signal: call.signal },
      );
      return { tokenId: args.tokenId, revoked: true };
    }),
  );
}
