import { randomUUID } from 'node:crypto';
import { type Clock, type Database, systemClock } from '@callgate/common';
import type { AttemptLimits } from './attempt-limits.js';
import { enqueueMail, enqueueMailToAccount } from './mail-outbox.js';
import { consumeLink, issueLink, issueLinkByEmail, type LinkOutcome } from './one-time-links.js';
import { DECOY_HASH, hashPassword, passwordProblem, verifyPassword } from './passwords.js';

interface AccountRow {
  account_id: string;
  email: string;
  /** Null for an account made by signing in with an upstream provider, until a reset sets one. */
  password_hash: string | null;
  email_verified_at: Date | null;
  tokens_valid_after: Date;
}

export interface AccountsOptions {
  db: Database;
  /** Default systemClock. */
  clock?: Clock;
  limits: AttemptLimits;
  /** The authorization server's public URL: links in mail point at it. */
  issuer: () => string;
  maxFailedSignIns: number;
  lockoutSeconds: number;
  /** Called after mail was written, so it goes out now rather than at the next drain. */
  mailWritten?: () => void;
}

export type SignInResult =
  | { accountId: string }
  | { problem: 'invalid' | 'locked' | 'limited' | 'unverified'; message: string };

export type SignUpResult = { ok: true } | { problem: 'email' | 'password' | 'limited'; message: string };

export const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,188}\.[^\s@]{2,63}$/;
export const normalEmail = (email: string) => email.trim().toLowerCase();
/**
 * A new account accepts tokens from the start of the second it was created in: a token's `iat` is in
 * whole seconds, so one issued in that same second would otherwise look older than the account
 * (a fast sign-up, sign-in and consent was refused as "signed out everywhere").
 */
export const startOfSecond = (at: Date) => new Date(Math.floor(at.getTime() / 1000) * 1000);

/**
 * People's accounts: sign-up with a verification link by mail, sign-in with lockout and attempt
 * limits, password reset by a single-use link, sign-out everywhere. The account id is the `sub` of
 * every token, which the gateway uses as the user id (user-credit creates the user, with its signup
 * credits, on the first authenticated request).
 */
export class Accounts {
  private readonly clock: Clock;

  constructor(private readonly options: AccountsOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async signUp(emailInput: string, password: string, address: string): Promise<SignUpResult> {
    const email = normalEmail(emailInput);
    if (!EMAIL.test(email) || email.length > 254) return { problem: 'email', message: 'enter a valid email address' };
    const weak = passwordProblem(password);
    if (weak) return { problem: 'password', message: `the password needs ${weak}` };
    if (!(await this.options.limits.take('address', address))) {
      return { problem: 'limited', message: 'too many attempts from your address; try again in an hour' };
    }
    const hash = await hashPassword(password);
    const now = this.clock.date();
    const taken = await this.options.db.transaction(async (tx) => {
      const accountId = randomUUID();
      const inserted = await tx.query(
        `INSERT INTO auth.accounts (account_id, email, password_hash, created_at, tokens_valid_after)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING RETURNING account_id`,
        [accountId, email, hash, now, startOfSecond(now)],
      );
      if (inserted.rowCount === 0) {
        const { rows } = await tx.query<{ account_id: string }>(
          'SELECT account_id FROM auth.accounts WHERE email = $1',
          [email],
        );
        return rows[0]?.account_id;
      }
      const secret = await issueLink(tx, accountId, 'verify-email', now);
      await enqueueMail(
        tx,
        {
          to: email,
          subject: 'Confirm your callgate account',
          text: `Open this link to confirm your address (it works once, for 24 hours):\n${this.options.issuer()}/verify-email?token=${secret}\n`,
        },
        now,
      );
      return undefined;
    });
    // The same answer as for a new address (no account discovery); the owner learns of it by mail, at
    // most AUTH_SIGN_INS_PER_ACCOUNT_PER_HOUR such mails an hour (else anyone could flood a mailbox
    // by signing up with its address over and over).
    if (taken !== undefined && (await this.options.limits.take('signup-mail', taken))) {
      await enqueueMail(
        this.options.db,
        {
          to: email,
          subject: 'Someone tried to sign up with your address',
          text: `Someone tried to create a callgate account with ${email}, which already has one.\nIf you forgot your password, reset it at ${this.options.issuer()}/reset-password\n`,
        },
        now,
      );
    }
    this.options.mailWritten?.();
    return { ok: true };
  }

  /** Creates a verified account unless the address has one (local seed). */
  async seed(emailInput: string, password: string): Promise<void> {
    const now = this.clock.date();
    await this.options.db.query(
      `INSERT INTO auth.accounts (account_id, email, password_hash, email_verified_at, created_at, tokens_valid_after)
       VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (email) DO NOTHING`,
      [randomUUID(), normalEmail(emailInput), await hashPassword(password), now, startOfSecond(now)],
    );
  }

  /**
   * Checks a password, under two guards against guessing that never let one person lock out another:
   *
   * - Lockout per (account, client address): AUTH_MAX_FAILED_SIGN_INS wrong passwords in a row from
   *   one address lock that address out of that account for AUTH_LOCKOUT_SECONDS, even with the
   *   right password then. The owner at any other address is not affected. (An account-wide lock,
   *   as before, let anyone who knows an address lock its owner out at will.)
   * - An account-wide hourly throttle on wrong passwords (AUTH_SIGN_INS_PER_ACCOUNT_PER_HOUR, all
   *   addresses together) against guessing spread over many addresses. Only wrong passwords count, so
   *   the owner's own sign-ins never use it up; once it is used up, sign-in is refused except from a
   *   browser that signed in to the account before (`from.knownDevice`, a cookie: known-devices.ts),
   *   and a password reset by mail empties it. A botnet can thus at worst slow new devices for an
   *   hour, never the owner's usual browser nor the reset path.
   *
   * Per-address limits (AUTH_SIGN_INS_PER_IP_PER_HOUR) slow one address across all accounts.
   */
  async signIn(
    emailInput: string,
    password: string,
    from: { address: string; knownDevice: boolean },
  ): Promise<SignInResult> {
    const invalid = { problem: 'invalid', message: 'wrong email or password' } as const;
    const email = normalEmail(emailInput);
    if (password.length > 256 || email.length > 254) return invalid;
    if (!(await this.options.limits.take('address', from.address))) {
      return { problem: 'limited', message: 'too many attempts from your address; try again in an hour' };
    }
    const account = await this.byEmail(email);
    if (!account) {
      await verifyPassword(password, DECOY_HASH);
      return invalid;
    }
    const now = this.clock.date();
    const { rows } = await this.options.db.query<{ failed: number; locked_until: Date | null }>(
      'SELECT failed, locked_until FROM auth.sign_in_failures WHERE account_id = $1 AND address = $2',
      [account.account_id, from.address],
    );
    const failures = rows[0];
    if (failures?.locked_until && failures.locked_until > now) {
      return {
        problem: 'locked',
        message:
          'too many wrong passwords from your address: sign-in to this account is locked here for a while; reset the password by mail, or wait',
      };
    }
    if (!from.knownDevice && !(await this.options.limits.allows('account', account.account_id))) {
      return {
        problem: 'limited',
        message:
          'too many wrong passwords for this account lately; sign in from a browser you used before, reset the password by mail, or try again in an hour',
      };
    }
    // No password yet (an account made through an upstream provider): as wrong as a wrong one, at the same cost.
    if (!(await verifyPassword(password, account.password_hash ?? DECOY_HASH))) {
      await this.options.limits.take('account', account.account_id);
      await this.options.db.query(
        `INSERT INTO auth.sign_in_failures (account_id, address, failed, locked_until, updated_at)
         VALUES ($1, $2, 1, CASE WHEN 1 >= $3 THEN $5::timestamptz END, $4)
         ON CONFLICT (account_id, address) DO UPDATE SET
           failed = CASE WHEN auth.sign_in_failures.failed + 1 >= $3 THEN 0 ELSE auth.sign_in_failures.failed + 1 END,
           locked_until = CASE WHEN auth.sign_in_failures.failed + 1 >= $3 THEN $5::timestamptz END,
           updated_at = $4`,
        [
          account.account_id,
          from.address,
          this.options.maxFailedSignIns,
          now,
          new Date(now.getTime() + this.options.lockoutSeconds * 1000),
        ],
      );
      return invalid;
    }
    if (failures) {
      await this.options.db.query('DELETE FROM auth.sign_in_failures WHERE account_id = $1 AND address = $2', [
        account.account_id,
        from.address,
      ]);
    }
    if (!account.email_verified_at) {
      return { problem: 'unverified', message: 'confirm your address first: open the link we sent you' };
    }
    return { accountId: account.account_id };
  }

  /** Forgets failure counts no lock depends on any more (a day without a wrong password). */
  async sweep(): Promise<void> {
    const now = this.clock.date();
    await this.options.db.query(
      'DELETE FROM auth.sign_in_failures WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $2)',
      [new Date(now.getTime() - 86_400_000), now],
    );
  }

  async verifyEmail(secret: string): Promise<LinkOutcome> {
    return this.options.db.transaction(async (tx) => {
      const outcome = await consumeLink(tx, secret, 'verify-email', this.clock.date());
      if ('accountId' in outcome) {
        await tx.query(
          'UPDATE auth.accounts SET email_verified_at = COALESCE(email_verified_at, $2) WHERE account_id = $1',
          [outcome.accountId, this.clock.date()],
        );
      }
      return outcome;
    });
  }

  /**
   * Mails a reset link if the address has an account; the caller answers the same either way. Known
   * and unknown addresses do the same work (no account discovery by timing): the same statements in
   * the same order, each keyed by the address, the link and the mail written by INSERT … SELECT from
   * the account (no row when there is none), the drain woken either way.
   */
  async requestReset(emailInput: string, address: string): Promise<{ limited: boolean }> {
    if (!(await this.options.limits.take('address', address))) return { limited: true };
    const email = normalEmail(emailInput).slice(0, 254);
    if (!(await this.options.limits.take('reset-mail', email))) return { limited: false };
    const now = this.clock.date();
    await this.options.db.transaction(async (tx) => {
      const secret = await issueLinkByEmail(tx, email, 'reset-password', now);
      await enqueueMailToAccount(
        tx,
        email,
        {
          subject: 'Reset your callgate password',
          text: `Open this link to choose a new password (it works once, for 30 minutes):\n${this.options.issuer()}/reset-password?token=${secret}\nIf you did not ask for this, ignore this mail.\n`,
        },
        now,
      );
    });
    this.options.mailWritten?.();
    return { limited: false };
  }

  /** Sets a new password by a reset link; unlocks the account and signs it out everywhere. */
  async resetPassword(
    secret: string,
    password: string,
  ): Promise<LinkOutcome | { problem: 'password'; message: string }> {
    const weak = passwordProblem(password);
    if (weak) return { problem: 'password', message: `the password needs ${weak}` };
    const hash = await hashPassword(password);
    const outcome = await this.options.db.transaction(async (tx) => {
      const now = this.clock.date();
      const outcome = await consumeLink(tx, secret, 'reset-password', now);
      if ('accountId' in outcome) {
        // Reaching the mailbox proves the address too.
        await tx.query(
          'UPDATE auth.accounts SET password_hash = $2, email_verified_at = COALESCE(email_verified_at, $3) WHERE account_id = $1',
          [outcome.accountId, hash, now],
        );
        // The owner proved themselves: every lock and the guesses against the old password end.
        await tx.query('DELETE FROM auth.sign_in_failures WHERE account_id = $1', [outcome.accountId]);
        await endEverything(tx, outcome.accountId, now);
      }
      return outcome;
    });
    if ('accountId' in outcome) await this.options.limits.forget('account', outcome.accountId);
    return outcome;
  }

  /** Every session, grant and token of the account ends, personal access tokens included. */
  async signOutEverywhere(accountId: string): Promise<void> {
    await this.options.db.transaction((tx) => endEverything(tx, accountId, this.clock.date()));
  }

  async email(accountId: string): Promise<string | undefined> {
    const { rows } = await this.options.db.query<{ email: string }>(
      'SELECT email FROM auth.accounts WHERE account_id = $1',
      [accountId],
    );
    return rows[0]?.email;
  }

  /** When tokens of the account started to count (undefined: no such account). */
  async tokensValidAfter(accountId: string): Promise<Date | undefined> {
    const { rows } = await this.options.db.query<{ tokens_valid_after: Date }>(
      'SELECT tokens_valid_after FROM auth.accounts WHERE account_id = $1',
      [accountId],
    );
    return rows[0]?.tokens_valid_after;
  }

  private async byEmail(email: string): Promise<AccountRow | undefined> {
    const { rows } = await this.options.db.query<AccountRow>('SELECT * FROM auth.accounts WHERE email = $1', [email]);
    return rows[0];
  }
}

/** Ends every session, grant, refresh token and personal access token of the account (account-deletion.ts too). */
export async function endEverything(
  tx: import('@callgate/common').Queryable,
  accountId: string,
  now: Date,
): Promise<void> {
  // Whole seconds: a token's iat is in seconds, and one issued in this second must count as before.
  const after = new Date(Math.ceil(now.getTime() / 1000) * 1000);
  await tx.query('UPDATE auth.accounts SET tokens_valid_after = $2 WHERE account_id = $1', [accountId, after]);
  const { rows } = await tx.query<{ id: string }>(
    "SELECT id FROM auth.oidc_payloads WHERE kind = 'Grant' AND account_id = $1",
    [accountId],
  );
  const grants = rows.map((r) => r.id);
  await tx.query(
    `DELETE FROM auth.oidc_payloads WHERE account_id = $1 OR grant_id = ANY($2::text[])
       OR (kind = 'Grant' AND id = ANY($2::text[]))`,
    [accountId, grants],
  );
  // Personal access tokens too: a reset or "sign out everywhere" follows a stolen password, and a token
  // made with it must not outlive the cure (found by the attack session).
  await tx.query('UPDATE auth.personal_tokens SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL', [
    accountId,
    now,
  ]);
}
