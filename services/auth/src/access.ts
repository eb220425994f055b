import type { Database } from '@callgate/common';

export type AccessVerdict = { active: true } | { active: false; reason: string };

/**
 * Whether a token this server issued still stands, for the gateway: the account exists, the token
 * was issued at or after the account's last sign-out everywhere, and its grant (if it names one) is
 * still stored. A revoked grant, a reused refresh token, a password reset and a deleted account all
 * remove what this looks at.
 */
export async function checkAccess(
  db: Database,
  request: { userId: string; grantId: string; issuedAt: string },
): Promise<AccessVerdict> {
  const issuedAt = Date.parse(request.issuedAt);
  if (!request.userId || Number.isNaN(issuedAt)) return { active: false, reason: 'the token is malformed' };
  const { rows } = await db.query<{ tokens_valid_after: Date; grant_found: boolean }>(
    `SELECT a.tokens_valid_after,
       ($2 = '' OR EXISTS (SELECT 1 FROM auth.oidc_payloads g
         WHERE g.kind = 'Grant' AND g.id = $2 AND g.account_id = a.account_id
           AND (g.expires_at IS NULL OR g.expires_at > now()))) AS grant_found
     FROM auth.accounts a WHERE a.account_id = $1`,
    [request.userId, request.grantId],
  );
  const row = rows[0];
  if (!row) return { active: false, reason: 'the account no longer exists' };
  if (issuedAt < row.tokens_valid_after.getTime())
    return { active: false, reason: 'the account signed out everywhere' };
  if (!row.grant_found) return { active: false, reason: 'access was revoked' };
  return { active: true };
}
