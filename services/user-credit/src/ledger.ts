import { randomUUID } from 'node:crypto';
import {
  type Clock,
  type Database,
  DomainError,
  failedPrecondition,
  invalidArgument,
  notFound,
  type Queryable,
} from '@callgate/common';
import type { creditV1 } from '@callgate/protos';
import { once } from './idempotency.js';

type Balance = creditV1.Balance__Output;
type Reservation = creditV1.Reservation__Output;
export type EntryKind = 'grant' | 'reserve' | 'settle' | 'release' | 'expire' | 'adjust';

/** A single movement is capped well below 2^53 so sums over any history stay exact in JavaScript numbers. */
export const MAX_AMOUNT = 1_000_000_000;

export interface LedgerOptions {
  db: Database;
  clock: Clock;
  lowBalanceCredits: number;
  reservationTtlSeconds: number;
}

interface AccountRow {
  user_id: string;
  available: string | number;
  held: string | number;
  debt: string | number;
}

interface ReservationRow {
  reservation_id: string;
  user_id: string;
  amount: string | number;
  status: 'held' | 'settled' | 'released' | 'expired';
  call_id: string;
  expires_at: Date;
  charged: string | number;
}

interface Movement {
  userId: string;
  kind: EntryKind;
  available: number;
  held: number;
  debt: number;
  charged?: number;
  reservationId?: string;
  callId?: string;
  reference: string;
  key: string;
  actor: string;
  description: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The credit ledger. Every change to a balance is one append-only entry written in the same transaction
 * as the account row it changes, and that row is locked first (SELECT … FOR UPDATE), so concurrent
 * reservations of one user queue on the lock and can never spend the same credit twice.
 */
export class Ledger {
  constructor(private readonly options: LedgerOptions) {}

  async balance(userId: string): Promise<Balance> {
    requireUser(userId);
    const { rows } = await this.options.db.query<AccountRow>(
      'SELECT user_id, available, held, debt FROM credits.accounts WHERE user_id = $1',
      [userId],
    );
    if (!rows[0]) throw unknownUser(userId);
    return this.toBalance(rows[0]);
  }

  /** Holds `amount` credits for a call. Refused with FAILED_PRECONDITION when fewer are available. */
  async reserve(request: {
    userId: string;
    amount: number;
    idempotencyKey: string;
    callId: string;
    ttlSeconds: number;
  }): Promise<creditV1.ReserveResponse__Output> {
    requireUser(request.userId);
    requireAmount('amount', request.amount, 1);
    requireKey(request.idempotencyKey);
    const ttl = request.ttlSeconds || this.options.reservationTtlSeconds;
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > 7 * 24 * 3600) {
      throw invalidArgument('ttlSeconds', 'must be between 60 and 604800 seconds (or 0 for the default)');
    }
    const now = this.options.clock.date();
    return this.options.db.transaction(async (tx) => {
      const { result, replayed } = await once(
        tx,
        {
          scope: `reserve:${request.userId}`,
          key: request.idempotencyKey,
          request: { amount: request.amount, callId: request.callId, ttl },
          now,
        },
        async () => {
          const account = await lockAccount(tx, request.userId);
          const available = Number(account.available);
          if (available < request.amount) {
            throw failedPrecondition(
              `not enough credits: this needs ${request.amount}, ${available} are available` +
                (Number(account.held) > 0 ? ` (${account.held} are held by calls in progress)` : ''),
              {
                reason: 'ERROR_REASON_INSUFFICIENT_CREDITS',
                neededCredits: request.amount,
                availableCredits: available,
              },
            );
          }
          const reservationId = randomUUID();
          const expiresAt = new Date(now.getTime() + ttl * 1000);
          await tx.query(
            `INSERT INTO credits.reservations (reservation_id, user_id, amount, status, call_id, created_at, expires_at)
             VALUES ($1, $2, $3, 'held', $4, $5, $6)`,
            [reservationId, request.userId, request.amount, request.callId, now, expiresAt],
          );
          const balance = await this.move(tx, account, now, {
            userId: request.userId,
            kind: 'reserve',
            available: -request.amount,
            held: request.amount,
            debt: 0,
            reservationId,
            callId: request.callId,
            reference: request.callId || reservationId,
            key: request.idempotencyKey,
            actor: request.userId,
            description: `hold for call ${request.callId || '(none)'}`,
          });
          const reservation: Reservation = {
            reservationId,
            userId: request.userId,
            amount: request.amount,
            status: 'RESERVATION_STATUS_HELD',
            callId: request.callId,
            expiresAt: expiresAt.toISOString(),
          };
          const { entryId: _entry, ...after } = balance;
          return { reservation, balance: after, replayed: false };
        },
      );
      if (!replayed || !result.reservation) return { ...result, replayed };
      // The same reservation as the first time, but as it stands now: a replayed hold that was since
      // released or settled must not pass for a live one (a caller would act on credits no longer held).
      const current = await tx.query<ReservationRow>(
        `SELECT reservation_id, user_id, amount, status, call_id, expires_at, charged FROM credits.reservations
         WHERE reservation_id = $1`,
        [result.reservation.reservationId],
      );
      const row = current.rows[0];
      return { ...result, reservation: row ? toReservation(row) : result.reservation, replayed };
    });
  }

  /**
   * Charges a reservation the actual cost: from the hold, then from available credits, and what neither
   * covers becomes debt. The rest of the hold is released. A hold the sweeper already expired is still
   * charged (the call did happen), from available credits.
   */
  async settle(request: {
    reservationId: string;
    actualAmount: number;
    idempotencyKey: string;
  }): Promise<creditV1.SettleResponse__Output> {
    requireReservationId(request.reservationId);
    requireAmount('actualAmount', request.actualAmount, 0);
    requireKey(request.idempotencyKey);
    const now = this.options.clock.date();
    return this.options.db.transaction(async (tx) => {
      const { result, replayed } = await once(
        tx,
        {
          scope: `settle:${request.reservationId}`,
          key: request.idempotencyKey,
          request: { actual: request.actualAmount },
          now,
        },
        async () => {
          const reservation = await lockReservation(tx, request.reservationId);
          if (reservation.status === 'settled') {
            throw failedPrecondition(
              `reservation ${reservation.reservation_id} was already settled (charged ${reservation.charged}); ` +
                'a reservation is settled once: retry with the idempotency key of that settle to read its result',
              { reason: 'ERROR_REASON_ALREADY_SETTLED' },
            );
          }
          if (reservation.status === 'released') {
            throw failedPrecondition(
              `reservation ${reservation.reservation_id} was released: the call was recorded as never connected, so it cannot be charged`,
            );
          }
          const account = await lockAccount(tx, reservation.user_id);
          const held = reservation.status === 'held' ? Number(reservation.amount) : 0;
          const actual = request.actualAmount;
          const fromHold = Math.min(actual, held);
          const released = held - fromHold;
          const fromAvailable = Math.min(actual - fromHold, Number(account.available) + released);
          const debt = actual - fromHold - fromAvailable;
          const balance = await this.move(tx, account, now, {
            userId: reservation.user_id,
            kind: 'settle',
            available: released - fromAvailable,
            held: -held,
            debt,
            charged: actual,
            reservationId: reservation.reservation_id,
            callId: reservation.call_id,
            reference: reservation.call_id || reservation.reservation_id,
            key: request.idempotencyKey,
            actor: reservation.user_id,
            description:
              `call ${reservation.call_id || '(none)'}: charged ${actual}` +
              (reservation.status === 'expired' ? ' after its hold had expired' : '') +
              (debt > 0 ? `, ${debt} recorded as debt` : ''),
          });
          await tx.query(
            `UPDATE credits.reservations SET status = 'settled', closed_at = $2, charged = $3, released = released + $4, debt = $5
             WHERE reservation_id = $1`,
            [reservation.reservation_id, now, actual, released, debt],
          );
          const { entryId: _entry, ...after } = balance;
          return {
            reservation: toReservation({ ...reservation, status: 'settled' }),
            charged: actual,
            released,
            debt,
            balance: after,
            replayed: false,
          };
        },
      );
      return { ...result, replayed };
    });
  }

  /** Returns a reservation's hold. Nothing to do when it was already released or expired; refused once settled. */
  async release(request: {
    reservationId: string;
    idempotencyKey: string;
    reason: string;
  }): Promise<creditV1.ReleaseResponse__Output> {
    requireReservationId(request.reservationId);
    requireKey(request.idempotencyKey);
    const now = this.options.clock.date();
    return this.options.db.transaction(async (tx) => {
      const { result, replayed } = await once(
        tx,
        { scope: `release:${request.reservationId}`, key: request.idempotencyKey, request: {}, now },
        async () => {
          const reservation = await lockReservation(tx, request.reservationId);
          if (reservation.status === 'settled') {
            throw failedPrecondition(
              `reservation ${reservation.reservation_id} was already settled (charged ${reservation.charged}); there is nothing to release`,
              { reason: 'ERROR_REASON_ALREADY_SETTLED' },
            );
          }
          const account = await lockAccount(tx, reservation.user_id);
          if (reservation.status !== 'held') {
            return {
              reservation: toReservation(reservation),
              released: 0,
              balance: this.toBalance(account),
              replayed: false,
            };
          }
          const amount = Number(reservation.amount);
          const balance = await this.move(tx, account, now, {
            userId: reservation.user_id,
            kind: 'release',
            available: amount,
            held: -amount,
            debt: 0,
            reservationId: reservation.reservation_id,
            callId: reservation.call_id,
            reference: reservation.call_id || reservation.reservation_id,
            key: request.idempotencyKey,
            actor: reservation.user_id,
            description: request.reason || `call ${reservation.call_id || '(none)'} did not connect`,
          });
          await tx.query(
            `UPDATE credits.reservations SET status = 'released', closed_at = $2, released = amount WHERE reservation_id = $1`,
            [reservation.reservation_id, now],
          );
          const { entryId: _entry, ...after } = balance;
          return {
            reservation: toReservation({ ...reservation, status: 'released' }),
            released: amount,
            balance: after,
            replayed: false,
          };
        },
      );
      return { ...result, replayed };
    });
  }

  /** Adds credits to a user; debt is paid off first. */
  async grant(request: {
    userId: string;
    amount: number;
    idempotencyKey: string;
    reason: string;
    actor: string;
  }): Promise<creditV1.GrantResponse__Output> {
    requireUser(request.userId);
    requireAmount('amount', request.amount, 1);
    requireKey(request.idempotencyKey);
    if (!request.actor.trim()) throw invalidArgument('actor', 'say who grants the credits (the admin subject)');
    const now = this.options.clock.date();
    return this.options.db.transaction(async (tx) => {
      const { result, replayed } = await once(
        tx,
        {
          scope: `grant:${request.userId}`,
          key: request.idempotencyKey,
          request: { amount: request.amount, reason: request.reason, actor: request.actor },
          now,
        },
        () => this.grantWithin(tx, now, request),
      );
      return { ...result, replayed };
    });
  }

  /** The grant itself, for callers already in a transaction (the signup grant of a new user). */
  async grantWithin(
    tx: Queryable,
    now: Date,
    request: { userId: string; amount: number; idempotencyKey: string; reason: string; actor: string },
  ): Promise<creditV1.GrantResponse__Output> {
    const account = await lockAccount(tx, request.userId);
    const repaid = Math.min(request.amount, Number(account.debt));
    const grantId = randomUUID();
    const balance = await this.move(tx, account, now, {
      userId: request.userId,
      kind: 'grant',
      available: request.amount - repaid,
      held: 0,
      debt: -repaid,
      reference: grantId,
      key: request.idempotencyKey,
      actor: request.actor,
      description: request.reason || 'credits granted',
    });
    const { entryId, ...rest } = balance;
    return { entryId, balance: rest, replayed: false, debtRepaid: repaid };
  }

  /** Returns the holds of reservations past their expiry; one transaction each, skipping rows others hold. */
  async expireDue(limit = 100): Promise<number> {
    const now = this.options.clock.date();
    const { rows } = await this.options.db.query<{ reservation_id: string }>(
      `SELECT reservation_id FROM credits.reservations WHERE status = 'held' AND expires_at <= $1
       ORDER BY expires_at LIMIT $2`,
      [now, limit],
    );
    let expired = 0;
    for (const { reservation_id } of rows) {
      const done = await this.options.db.transaction(async (tx) => {
        const locked = await tx.query<ReservationRow>(
          `SELECT reservation_id, user_id, amount, status, call_id, expires_at, charged FROM credits.reservations
           WHERE reservation_id = $1 AND status = 'held' AND expires_at <= $2 FOR UPDATE SKIP LOCKED`,
          [reservation_id, now],
        );
        const reservation = locked.rows[0];
        if (!reservation) return false;
        const account = await lockAccount(tx, reservation.user_id);
        const amount = Number(reservation.amount);
        await this.move(tx, account, now, {
          userId: reservation.user_id,
          kind: 'expire',
          available: amount,
          held: -amount,
          debt: 0,
          reservationId: reservation.reservation_id,
          callId: reservation.call_id,
          reference: reservation.call_id || reservation.reservation_id,
          key: `expire:${reservation.reservation_id}`,
          actor: 'sweeper',
          description: `hold for call ${reservation.call_id || '(none)'} was never settled and expired`,
        });
        await tx.query(
          `UPDATE credits.reservations SET status = 'expired', closed_at = $2, released = amount WHERE reservation_id = $1`,
          [reservation.reservation_id, now],
        );
        return true;
      });
      if (done) expired++;
    }
    return expired;
  }

  /** Appends one entry and applies it to the (already locked) account row. */
  private async move(
    tx: Queryable,
    account: AccountRow,
    now: Date,
    movement: Movement,
  ): Promise<Balance & { entryId: string }> {
    const entry = await tx.query<{ entry_id: string | number }>(
      `INSERT INTO credits.entries (user_id, kind, available_change, held_change, debt_change, charged, reservation_id,
         call_id, reference, idempotency_key, actor, description, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING entry_id`,
      [
        movement.userId,
        movement.kind,
        movement.available,
        movement.held,
        movement.debt,
        movement.charged ?? 0,
        movement.reservationId ?? null,
        movement.callId ?? '',
        movement.reference,
        movement.key,
        movement.actor,
        movement.description,
        now,
      ],
    );
    const updated = await tx.query<AccountRow>(
      `UPDATE credits.accounts SET available = available + $2, held = held + $3, debt = debt + $4, updated_at = $5
       WHERE user_id = $1 RETURNING user_id, available, held, debt`,
      [account.user_id, movement.available, movement.held, movement.debt, now],
    );
    return { ...this.toBalance(updated.rows[0] as AccountRow), entryId: String(entry.rows[0]?.entry_id) };
  }

  toBalance(row: AccountRow): Balance {
    const available = Number(row.available);
    return {
      userId: row.user_id,
      available,
      held: Number(row.held),
      debt: Number(row.debt),
      unit: 'credits',
      lowBalance: available < this.options.lowBalanceCredits,
    };
  }
}

async function lockAccount(tx: Queryable, userId: string): Promise<AccountRow> {
  const { rows } = await tx.query<AccountRow>(
    'SELECT user_id, available, held, debt FROM credits.accounts WHERE user_id = $1 FOR UPDATE',
    [userId],
  );
  if (!rows[0]) throw unknownUser(userId);
  return rows[0];
}

async function lockReservation(tx: Queryable, reservationId: string): Promise<ReservationRow> {
  const { rows } = await tx.query<ReservationRow>(
    `SELECT reservation_id, user_id, amount, status, call_id, expires_at, charged FROM credits.reservations
     WHERE reservation_id = $1 FOR UPDATE`,
    [reservationId],
  );
  if (!rows[0]) throw notFound('reservation', reservationId);
  return rows[0];
}

const RESERVATION_STATUS = {
  held: 'RESERVATION_STATUS_HELD',
  settled: 'RESERVATION_STATUS_SETTLED',
  released: 'RESERVATION_STATUS_RELEASED',
  expired: 'RESERVATION_STATUS_EXPIRED',
} as const;

function toReservation(row: ReservationRow): Reservation {
  return {
    reservationId: row.reservation_id,
    userId: row.user_id,
    amount: Number(row.amount),
    status: RESERVATION_STATUS[row.status],
    callId: row.call_id,
    expiresAt: row.expires_at.toISOString(),
  };
}

export function unknownUser(userId: string): DomainError {
  return new DomainError(
    'not_found',
    `user ${userId} has no credit account yet; it is created on the user's first authenticated request`,
  );
}

export function requireUser(userId: string): void {
  if (!userId || userId.length > 255) throw invalidArgument('userId', 'required, at most 255 characters');
}

function requireAmount(field: string, amount: number, min: number): void {
  if (!Number.isSafeInteger(amount) || amount < min || amount > MAX_AMOUNT) {
    throw invalidArgument(field, `must be a whole number of credits from ${min} to ${MAX_AMOUNT}, got ${amount}`);
  }
}

function requireKey(key: string): void {
  if (!key || key.length > 200) {
    throw invalidArgument(
      'idempotencyKey',
      'required (at most 200 characters): retries with the same key have one effect',
    );
  }
}

function requireReservationId(id: string): void {
  if (!UUID.test(id)) throw invalidArgument('reservationId', `not a reservation id: ${JSON.stringify(id)}`);
}
