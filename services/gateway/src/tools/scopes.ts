import { requireScopes } from '@modelcontextprotocol/server';

/** OAuth scopes a token may carry; each tool and resource that touches user data demands one. */
export const SCOPES = {
  callsRead: 'calls:read',
  callsWrite: 'calls:write',
  profileRead: 'profile:read',
  profileWrite: 'profile:write',
  creditsRead: 'credits:read',
  /**
   * The apps and personal access tokens that act for the person: list and revoke them, create tokens.
   * Granted by the authorization server to the pre-registered console alone, which asks for it by name:
   * never a default, never to another client, never carried by a personal access token, so no token and
   * no third-party app can mint tokens.
   */
  appsManage: 'apps:manage',
  /** Operators only (admin tools); never part of a user's token by default. */
  admin: 'admin',
} as const;

export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

/**
 * The scopes a person's tools need (calls, profile, credits): what local tokens (npm start, mint-token,
 * tests) carry unless told otherwise, what a client that asks for nothing is granted, and all a personal
 * access token may hold. Not admin, not apps:manage.
 */
export const USER_SCOPES = Object.values(SCOPES)
  .filter((scope) => scope !== SCOPES.admin && scope !== SCOPES.appsManage)
  .join(' ');

/** Every scope a person may consent to: the user scopes, and apps:manage for the console (which is why scopes_supported lists USER_SCOPES). */
export const CONSENTABLE_SCOPES: readonly Scope[] = [...(USER_SCOPES.split(' ') as Scope[]), SCOPES.appsManage];

/**
 * The SDK's scope check for a tool: over HTTP a missing scope is answered 403 with an
 * `insufficient_scope` challenge before the tool runs; the WebSocket transport applies the same check.
 */
export const needs = (scope: Scope) => requireScopes(scope);
