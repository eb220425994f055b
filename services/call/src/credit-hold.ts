import {
  DomainError,
  failedPrecondition,
  invalidArgument,
  isGrpcError,
  type PriceTable,
  worstCaseCost,
} from '@callgate/common';
import type { CallSettings } from './call-settings.js';
import type { CreditClient } from './credits.js';

/**
 * user-credit unreachable before the intent is recorded: nothing was dialled and nothing will be (the
 * recovery job dials only recorded intents), so the caller is told to retry, not that the outcome is
 * unknown. A hold a timed-out Reserve may have taken is found again by the retry (same key) or expires.
 * The metadata (x-callgate-not-placed) lets the gateway say so instead of "may or may not".
 */
export function notPlaced(error: unknown): never {
  if (isGrpcError(error) && (error.code === 14 || error.code === 4)) {
    throw new DomainError(
      'unavailable',
      `user-credit is unavailable (${error.details}), so no call was placed and none will be; retry with the same idempotencyKey`,
      { 'not-placed': 'true' },
    );
  }
  throw error;
}

export interface CreditHold {
  reservationId: string;
  /** Credits held: the worst case, the whole max duration on the chosen model. */
  amount: number;
}

/**
 * Holds the worst-case credits of a call, keyed by its call id, so a retry (also after a crash) finds the
 * same hold. No abort signal: a hold that user-credit already committed must come back with its id, or
 * it would stay locked until it expires, with no call to release it.
 */
export async function holdCredits(
  credit: CreditClient,
  pricing: PriceTable,
  call: { userId: string; callId: string; idempotencyKey: string },
  settings: Pick<CallSettings, 'model' | 'maxDurationSeconds'>,
): Promise<CreditHold> {
  const { model, maxDurationSeconds } = settings;
  const amount = worstCaseCost(pricing, model.creditsPerMinute, maxDurationSeconds);
  try {
    const held = await credit.reserve({
      userId: call.userId,
      amount,
      idempotencyKey: `call:${call.callId}`,
      callId: call.callId,
      ttlSeconds: 0,
    });
    if (held.reservation?.status !== 'RESERVATION_STATUS_HELD') {
      // A replay of an earlier attempt with this key whose hold was already given back.
      throw failedPrecondition(
        `idempotencyKey "${call.idempotencyKey}" belongs to an earlier attempt that did not place a call; use a new key`,
      );
    }
    return { reservationId: held.reservation.reservationId, amount };
  } catch (error) {
    if (isGrpcError(error) && error.code === 3 && /idempotencyKey/.test(error.details)) {
      throw invalidArgument(
        'idempotencyKey',
        `"${call.idempotencyKey}" was already used for a call with different settings; use a new key`,
      );
    }
    if (isGrpcError(error) && error.code === 9) {
      const available = error.metadata?.get('x-callgate-available')[0];
      throw failedPrecondition(
        `not enough credits: a call of up to ${maxDurationSeconds} s on ${model.id} (${model.creditsPerMinute} credits a minute) needs ${amount} credits held, ` +
          `and ${available ?? 'fewer'} are available. Shorten maxDurationSeconds, choose a cheaper model, or add credits.`,
        { needed: String(amount), available: String(available ?? '') },
      );
    }
    return notPlaced(error);
  }
}
