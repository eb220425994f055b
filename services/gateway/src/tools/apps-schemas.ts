import { z } from 'zod';
import { USER_SCOPES } from './scopes.js';

/** Schemas of the apps:manage tools (apps.ts): the auth service's grants and personal access tokens. */

/** The scopes a personal access token may hold: the user scopes, never admin nor apps:manage. */
export const personalTokenScope = z.enum(USER_SCOPES.split(' ') as [string, ...string[]]);

/**
 * The longest a personal access token may live, in days: the auth service's MAX_PERSONAL_TOKEN_DAYS
 * (test/e2e/auth-scopes.test.ts holds the two equal).
 */
export const MAX_PERSONAL_TOKEN_DAYS = 365;

/** Ids as the auth service makes them (base64url); anything else names nothing, and is refused as such. */
export const opaqueId = (what: string) =>
  z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_-]+$/, `a ${what} as listed (letters, digits, - and _)`);

const instant = z.string().describe('RFC 3339, UTC.');

export const connectedApp = z.object({
  grantId: z.string(),
  clientId: z.string(),
  clientName: z.string(),
  scopes: z.array(z.string()),
  grantedAt: instant,
  lastUsedAt: instant.nullable().describe('Last use at the gateway, to the minute; null: never used.'),
});

export const personalTokenInfo = z.object({
  tokenId: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  createdAt: instant,
  expiresAt: instant,
  lastUsedAt: instant.nullable().describe('Last use, to the minute; null: never used.'),
});

export const connectedAppsOutput = z.object({ apps: z.array(connectedApp) });
export const revokedAppOutput = z.object({ grantId: z.string(), revoked: z.literal(true) });
export const personalTokensOutput = z.object({ tokens: z.array(personalTokenInfo) });
export const createdTokenOutput = z.object({
  tokenId: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  createdAt: instant,
  expiresAt: instant,
  token: z.string().describe('The token itself (cgp_…): shown only now, never listed again. Keep it secret.'),
});
export const revokedTokenOutput = z.object({ tokenId: z.string(), revoked: z.literal(true) });
