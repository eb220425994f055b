import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '@callgate/common';

export type LinkPurpose = 'verify-email' | 'reset-password';

/** How long each kind of link works. */
export const LINK_TTL_MS: Record<LinkPurpose, number> = {
  'verify-email': 24 * 3_600_000,
  'reset-password': 30 * 60_000,
};

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('base64url');

/** A new link secret for the account; only its hash is stored. */
export async function issueLink(tx: Queryable, accountId: string, purpose: LinkPurpose, now: Date): Promise<string> {
  const secret = randomBytes(32).toString('base64url');
  await tx.query(
    `INSERT INTO auth.one_time_links (token_hash, account_id, purpose, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [hashSecret(secret), accountId, purpose, now, new Date(now.getTime() + LINK_TTL_MS[purpose])],
  );
  return secret;
}

/**
 * A new link secret for the account with this address, if there is one: the same statement whether
 * or not there is (INSERT … SELECT inserts no row then), so the two cannot be told apart by the work.
 */
export async function issueLinkByEmail(tx: Queryable, email: string, purpose: LinkPurpose, now: Date): Promise<string> {
  const secret = randomBytes(32).toString('base64url');
  await tx.query(
    `INSERT INTO auth.one_time_links (token_hash, account_id, purpose, created_at, expires_at)
     SELECT $1, account_id, $3, $4, $5 FROM auth.accounts WHERE email = $2`,
    [hashSecret(secret), email, purpose, now, new Date(now.getTime() + LINK_TTL_MS[purpose])],
  );
  return secret;
}

export type LinkOutcome = { accountId: string } | { problem: 'unknown' | 'expired' | 'used' };

/** Uses a link once: the first use wins (the row is marked in the same statement that checks it). */
export async function consumeLink(
  tx: Queryable,
  secret: string,
  purpose: LinkPurpose,
  now: Date,
): Promise<LinkOutcome> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return { problem: 'unknown' };
  const hash = hashSecret(secret);
  const { rows } = await tx.query<{ account_id: string }>(
    `UPDATE auth.one_time_links SET used_at = $3
     WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING account_id`,
    [hash, purpose, now],
  );
  if (rows[0]) return { accountId: rows[0].account_id };
  const { rows: found } = await tx.query<{ used_at: Date | null }>(
    'SELECT used_at FROM auth.one_time_links WHERE token_hash = $1 AND purpose = $2',
    [hash, purpose],
  );
  if (!found[0]) return { problem: 'unknown' };
  return { problem: found[0].used_at ? 'used' : 'expired' };
}
