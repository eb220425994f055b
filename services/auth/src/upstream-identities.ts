import { randomUUID } from 'node:crypto';
import type { Clock, Database, Queryable } from '@callgate/common';
import { EMAIL, normalEmail, startOfSecond } from './accounts.js';
import { enqueueMail } from './mail-outbox.js';

/** What an upstream provider vouched for, from its verified ID token (or its userinfo, same `sub`). */
export interface UpstreamClaims {
  sub: string;
  email?: unknown;
  email_verified?: unknown;
}

export type UpstreamAccountOutcome =
  | { accountId: string; how: 'known' | 'linked' | 'created' }
  | { problem: 'subject' | 'no-email' | 'unverified-email' | 'unconfirmed-account'; message: string };

class Raced extends Error {}

/**
 * Which callgate account a person who signed in at an upstream provider is:
 *
 * 1. The provider's `sub` already linked (auth.upstream_identities): that account. `sub` is the stable
 *    key; the address may have changed at the provider since.
 * 2. Otherwise the provider must vouch for the address: `email_verified` exactly `true`. Linking by an
 *    address the provider never checked is the known takeover: anyone could open an account there with
 *    someone else's address and arrive in their callgate account.
 * 3. A verified callgate account with that address: the identity is linked to it, and the address is told
 *    by mail (an owner who did not do it learns of it). An account whose address was never confirmed is
 *    NOT linked: it may be a squatter's, made with the owner's address and a password the squatter knows
 *    (pre-account takeover); the person confirms it or resets its password by mail first, which proves the
 *    mailbox and ends the squatter's password.
 * 4. No account: a new one, its address confirmed (the provider vouched), without a password. The gateway
 *    gives it its signup credits on its first request, as for every new account.
 *
 * Concurrent first sign-ins of one person end in one account and one link (unique keys, then re-read).
 */
export class UpstreamIdentities {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly mailWritten?: () => void,
  ) {}

  async accountFor(provider: { id: string; name: string }, claims: UpstreamClaims): Promise<UpstreamAccountOutcome> {
    // OpenID Connect Core §2: at most 255 ASCII characters.
    if (!claims.sub || claims.sub.length > 255 || !/^[\x20-\x7e]+$/.test(claims.sub)) {
      return { problem: 'subject', message: `${provider.name} sent an identifier this server does not accept.` };
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await this.db.transaction((tx) => this.resolve(tx, provider, claims));
        if ('how' in outcome && outcome.how === 'linked') this.mailWritten?.();
        return outcome;
      } catch (error) {
        // Another sign-in of the same person created the account or the link meanwhile (this pass is rolled
        // back): the next pass finds it.
        if (!(error instanceof Raced) || attempt >= 2) throw error;
      }
    }
  }

  private async resolve(
    tx: Queryable,
    provider: { id: string; name: string },
    claims: UpstreamClaims,
  ): Promise<UpstreamAccountOutcome> {
    const now = this.clock.date();
    const { rows: known } = await tx.query<{ account_id: string }>(
      `UPDATE auth.upstream_identities SET last_used_at = $3 WHERE provider = $1 AND subject = $2 RETURNING account_id`,
      [provider.id, claims.sub, now],
    );
    if (known[0]) return { accountId: known[0].account_id, how: 'known' };
    if (typeof claims.email !== 'string' || !claims.email) {
      return {
        problem: 'no-email',
        message: `${provider.name} did not share your email address, which a callgate account needs. Allow it to, or sign in with a password.`,
      };
    }
    const email = normalEmail(claims.email);
    if (email.length > 254 || !EMAIL.test(email)) {
      return { problem: 'no-email', message: `${provider.name} shared an address this server cannot use.` };
    }
    if (claims.email_verified !== true) {
      return {
        problem: 'unverified-email',
        message: `${provider.name} has not verified your email address, so it cannot be used to sign in here. Verify it at ${provider.name}, or sign in with a password.`,
      };
    }
    const { rows: existing } = await tx.query<{ account_id: string; email_verified_at: Date | null }>(
      'SELECT account_id, email_verified_at FROM auth.accounts WHERE email = $1 FOR UPDATE',
      [email],
    );
    let accountId = existing[0]?.account_id;
    if (existing[0] && !existing[0].email_verified_at) {
      return {
        problem: 'unconfirmed-account',
        message: `A callgate account with ${email} exists but its address was never confirmed. Open the confirmation link we mailed, or reset its password by mail, then continue with ${provider.name} again.`,
      };
    }
    if (!accountId) {
      const { rows: created } = await tx.query<{ account_id: string }>(
        `INSERT INTO auth.accounts (account_id, email, password_hash, email_verified_at, created_at, tokens_valid_after)
         VALUES ($1, $2, NULL, $3, $3, $4) ON CONFLICT (email) DO NOTHING RETURNING account_id`,
        [randomUUID(), email, now, startOfSecond(now)],
      );
      if (!created[0]) throw new Raced();
      accountId = created[0].account_id;
    }
    const { rowCount } = await tx.query(
      `INSERT INTO auth.upstream_identities (provider, subject, account_id, email, linked_at, last_used_at)
       VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (provider, subject) DO NOTHING`,
      [provider.id, claims.sub, accountId, email, now],
    );
    if (rowCount === 0) throw new Raced();
    if (existing[0]) {
      await enqueueMail(
        tx,
        {
          to: email,
          subject: `Sign-in with ${provider.name} was added to your callgate account`,
          text: `Your callgate account ${email} can now be signed in to with ${provider.name} (${now.toISOString()}).\nIf you did not do this, someone controls your ${provider.name} account: secure it, then reset your callgate password at the sign-in page (that signs out every session and app).\n`,
        },
        now,
      );
      return { accountId, how: 'linked' };
    }
    return { accountId, how: 'created' };
  }

  /** The providers an account can sign in with (for tests and support). */
  async of(accountId: string): Promise<{ provider: string; email: string }[]> {
    const { rows } = await this.db.query<{ provider: string; email: string }>(
      'SELECT provider, email FROM auth.upstream_identities WHERE account_id = $1 ORDER BY provider',
      [accountId],
    );
    return rows;
  }
}
