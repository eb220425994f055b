/**
 * The scopes the gateway checks (services/gateway/src/tools/scopes.ts: a test holds the two lists
 * equal), each in words a person understands, shown on the consent screen. `admin` is not here:
 * operators get it some other way, never by a user's consent.
 */
export const RESOURCE_SCOPES = {
  'calls:read': 'See your calls: their status, history, transcripts and outcomes.',
  'calls:write': 'Place and cancel phone calls for you. Calls use your credits.',
  'profile:read': 'See your profile and your call preferences (voice, language, caller id).',
  'profile:write': 'Change your call preferences.',
  'credits:read': 'See your credit balance and how you used it.',
  'apps:manage':
    'See the apps and personal access tokens that can act for you, revoke them, and create new personal access tokens.',
} as const;

export type ResourceScope = keyof typeof RESOURCE_SCOPES;

/** OAuth/OIDC scopes about the sign-in itself, with their words. */
export const SIGN_IN_SCOPES = {
  openid: 'Know who you are (your account id).',
  offline_access: 'Stay connected until you revoke access, without asking you again.',
} as const;

export function describeScope(scope: string): string {
  return (
    (RESOURCE_SCOPES as Record<string, string>)[scope] ??
    (SIGN_IN_SCOPES as Record<string, string>)[scope] ??
    `Unknown permission "${scope}".`
  );
}

/**
 * Scopes that manage access itself: granted only to the pre-registered console when it names them
 * (provider.ts), never by default, never to another client, and never held by a personal access token
 * (a token, or an app, that could mint tokens would outlive its own revocation).
 */
export const MANAGE_SCOPES: readonly ResourceScope[] = ['apps:manage'];

/**
 * The scopes of a person's tools (calls, profile, credits: read and write as the gateway's tools use
 * them): all a personal access token may hold.
 */
export const USER_SCOPES: readonly ResourceScope[] = (Object.keys(RESOURCE_SCOPES) as ResourceScope[]).filter(
  (scope) => !MANAGE_SCOPES.includes(scope),
);

/**
 * What a client that asks for no scope gets: every user scope, never `admin` nor `apps:manage`. MCP
 * clients ask for the scopes in the gateway's 401 challenge or its protected resource metadata, and send
 * none when they find none (the MCP conformance suite's authorization-code-grant does); without a
 * default such a request ended in access_denied ("no scope was granted"). The consent screen lists them all.
 */
export const DEFAULT_SCOPES: readonly ResourceScope[] = USER_SCOPES;
