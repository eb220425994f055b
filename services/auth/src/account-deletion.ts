import { type Clock, type Database, systemClock } from '@callgate/common';
import { endEverything } from './accounts.js';
import type { AttemptLimits } from './attempt-limits.js';
import { enqueueMail } from './mail-outbox.js';

export interface AccountDeletionOptions {
  db: Database;
  limits: AttemptLimits;
  /** Default systemClock. */
  clock?: Clock;
  /** Called after the notice was written, so it goes out now rather than at the next drain. */
  mailWritten?: () => void;
}

/**
 * Deleting an account, for good. In one transaction: every session, grant, refresh token and personal
 * access token ends (as in sign-out everywhere), then the account row goes and with it, by foreign key,
 * its personal access tokens, one-time links, sign-in failures and links to upstream providers; the mail ever queued to its address
 * goes too, and one last mail tells the address that the account was deleted (if someone else did it
 * with a stolen password, the owner learns of it).
 *
 * At the gateway every token of the account is refused within AUTH_CHECK_CACHE_MS (15 s by default):
 * access tokens because CheckAccess answers "the account no longer exists", personal access tokens
 * because VerifyPersonalToken no longer finds them. The account id is never used again (a new sign-up
 * with the same address gets a new one), so nothing can act as it afterwards.
 *
 * What user-credit and call hold under the account id (profile, preferences, credit ledger, call
 * records) is kept, keyed by an id nothing links to a person any more: the auth service owns only its
 * own schema, the ledger is append-only by design, and call records back charges already made. Erasing
 * those needs a deletion RPC in each of those services (README, "Deleting an account").
 */
export class AccountDeletion {
  private readonly clock: Clock;

  constructor(private readonly options: AccountDeletionOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** True when this call deleted the account; false when it was already gone (a second or concurrent delete). */
  async delete(accountId: string): Promise<boolean> {
    const now = this.clock.date();
    const email = await this.options.db.transaction(async (tx) => {
      // The row lock orders concurrent deletes: the second waits, then finds nothing to delete.
      const { rows } = await tx.query<{ email: string }>(
        'SELECT email FROM auth.accounts WHERE account_id = $1 FOR UPDATE',
        [accountId],
      );
      const address = rows[0]?.email;
      if (address === undefined) return undefined;
      await endEverything(tx, accountId, now);
      // Its links to upstream providers (Google, …) go first: the same sub must not find the deleted account's id.
      // (The foreign key cascades too; said here so the list of what goes is in one place.)
      await tx.query('DELETE FROM auth.upstream_identities WHERE account_id = $1', [accountId]);
      await tx.query('DELETE FROM auth.accounts WHERE account_id = $1', [accountId]);
      await tx.query('DELETE FROM auth.mail_outbox WHERE recipient = $1', [address]);
      await enqueueMail(
        tx,
        {
          to: address,
          subject: 'Your callgate account was deleted',
          text: `The callgate account of ${address} was deleted at ${now.toISOString()}, with every app, session and personal access token that used it.\nIf you did not do this, someone knew your password: change it wherever else you used it.\n`,
        },
        now,
      );
      return address;
    });
    if (email === undefined) return false;
    // Its attempt counters are keyed by the id nothing will use again; they would go within the hour anyway.
    await this.options.limits.forget('account', accountId);
    await this.options.limits.forget('signup-mail', accountId);
    this.options.mailWritten?.();
    return true;
  }
}
