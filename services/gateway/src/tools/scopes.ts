import { requireScopes } from '@modelcontextprotocol/server';

/** OAuth scopes a token may carry; each tool and resource that touches user data demands one. */
export const SCOPES = {
  callsRead: 'calls:read',
  callsWrite: 'calls:write',
  profileRead: 'profile:read',
  profileWrite: 'profile:write',
  creditsRead: 'credits:read',
  /** Operators only (admin tools); never part of a user's token by default. */
  admin: 'admin',
} as const;

/** Every user scope: what local tokens (npm start, mint-token, tests) carry unless told otherwise. Not admin. */
export const USER_SCOPES = Object.values(SCOPES)
  .filter((scope) => scope !== SCOPES.admin)
  .join(' ');

/**
 * The SDK's scope check for a tool: over HTTP a missing scope is answered 403 with an
 * `insufficient_scope` challenge before the tool runs; the WebSocket transport applies the same check.
 */
export const needs = (scope: (typeof SCOPES)[keyof typeof SCOPES]) => requireScopes(scope);
