import { type Clock, type Database, invalidArgument } from '@callgate/common';
import type { creditV1 } from '@callgate/protos';
import { once } from './idempotency.js';
import { type Ledger, requireUser, unknownUser } from './ledger.js';

interface UserRow {
  user_id: string;
  display_name: string;
  email: string;
  organization: string;
  plan: string;
  caller_ids: string[];
  allowed_destination_countries: string[];
  created_at: Date;
}

export interface UsersOptions {
  db: Database;
  ledger: Ledger;
  clock: Clock;
  signupCredits: number;
  /** Daily call minutes by plan (0: no cap); a plan not named has no cap. */
  planDailyMinutes?: Readonly<Record<string, number>>;
}

const USER_COLUMNS =
  'user_id, display_name, email, organization, plan, caller_ids, allowed_destination_countries, created_at';

/** Users, created on first sight: the JWT subject is the identity, the claims fill the profile once. */
export class Users {
  constructor(private readonly options: UsersOptions) {}

  async get(request: creditV1.GetUserRequest__Output): Promise<creditV1.GetUserResponse__Output> {
    requireUser(request.userId);
    if (!request.createIfMissing) {
      return { user: toUser(await this.row(request.userId)), created: false };
    }
    if (request.displayName.length > 200) throw invalidArgument('displayName', 'at most 200 characters');
    if (request.email.length > 320) throw invalidArgument('email', 'at most 320 characters');
    const now = this.options.clock.date();
    return this.options.db.transaction(async (tx) => {
      // Two first requests of one user race here: the second waits on the primary key, then finds the row.
      const inserted = await tx.query<UserRow>(
        `INSERT INTO credits.users (user_id, display_name, email, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO NOTHING RETURNING ${USER_COLUMNS}`,
        [request.userId, request.displayName, request.email, now],
      );
      const created = inserted.rows[0];
      if (!created) {
        const existing = await tx.query<UserRow>(`SELECT ${USER_COLUMNS} FROM credits.users WHERE user_id = $1`, [
          request.userId,
        ]);
        return { user: toUser(existing.rows[0] as UserRow), created: false };
      }
      await tx.query(
        'INSERT INTO credits.accounts (user_id, available, held, debt, updated_at) VALUES ($1, 0, 0, 0, $2)',
        [request.userId, now],
      );
      await tx.query('INSERT INTO credits.preferences (user_id, updated_at) VALUES ($1, $2)', [request.userId, now]);
      if (this.options.signupCredits > 0) {
        // Through the idempotency table like any grant, so an admin grant reusing the key "signup" cannot add more.
        const grant = {
          userId: request.userId,
          amount: this.options.signupCredits,
          idempotencyKey: 'signup',
          reason: 'welcome credits for a new user',
          actor: 'signup',
        };
        await once(
          tx,
          {
            scope: `grant:${request.userId}`,
            key: grant.idempotencyKey,
            request: { amount: grant.amount, reason: grant.reason, actor: grant.actor },
            now,
          },
          () => this.options.ledger.grantWithin(tx, now, grant),
        );
      }
      return { user: toUser(created), created: true };
    });
  }

  async profile(userId: string): Promise<creditV1.Profile__Output> {
    requireUser(userId);
    const row = await this.row(userId);
    return {
      userId: row.user_id,
      displayName: row.display_name,
      email: row.email,
      organization: row.organization,
      plan: row.plan,
      createdAt: row.created_at.toISOString(),
      callerIds: row.caller_ids,
      allowedDestinationCountries: row.allowed_destination_countries,
      dailyCallMinutes:
        this.options.planDailyMinutes && Object.hasOwn(this.options.planDailyMinutes, row.plan)
          ? (this.options.planDailyMinutes[row.plan] ?? 0)
          : 0,
    };
  }

  private async row(userId: string): Promise<UserRow> {
    const { rows } = await this.options.db.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM credits.users WHERE user_id = $1`,
      [userId],
    );
    if (!rows[0]) throw unknownUser(userId);
    return rows[0];
  }
}

function toUser(row: UserRow): creditV1.User__Output {
  return { userId: row.user_id, createdAt: row.created_at.toISOString(), plan: row.plan };
}
