import { requireScopes } from '@modelcontextprotocol/server';

/** OAuth scopes a token may carry; each tool that touches user data demands one. */
export const SCOPES = {
  callsRead: 'calls:read',
  callsWrite: 'calls:write',
  profileWrite: 'profile:write',
  creditsRead: 'credits:read',
} as const;

/**
 * The SDK's scope check for a tool: over HTTP a missing scope is answered 403 with an
 * `insufficient_scope` challenge before the tool runs; the WebSocket transport applies the same check.
 */
export const needs = (scope: (typeof SCOPES)[keyof typeof SCOPES]) => requireScopes(scope);
