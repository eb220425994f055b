import {
  DomainError,
  errorDetailOf,
  failedPrecondition,
  invalidArgument,
  isUnreachable,
  type PriceTable,
  worstCaseCost,
} from '@callgate/common';
import type { CallSettings } from './call-settings.js';
import type { CreditClient } from './credits.js';

/**
 * user-credit unreachable before the intent is recorded: nothing was dialled and nothing will be (the
 * recovery job dials only recorded intents), so the caller is told to retry, not that the outcome is
 * unknown. A hold a timed-out Reserve may have taken is found again by the retry (same key) or expires.
 * The typed detail (not_placed) lets the gateway say so instead of "may or may not". Unreachable is a
 * transport failure (no answer, or none in time): it carries no detail of user-credit's, only its code.
 */
export function notPlaced(error: unknown): never {
  if (isUnreachable(error)) {
    throw new DomainError(
      'unavailable',
      `user-credit is unavailable (${error.details}), so no call was placed and none will be; retry with the same idempotencyKey`,
      { reason: 'ERROR_REASON_DEPENDENCY_UNAVAILABLE', notPlaced: true },
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
 * The credits a call holds: the worst case, its whole time limit on its model. The one sizing of a
 * hold: PlaceCall holds this, and EstimateCall (estimate.ts) reports it before anything is placed.
 */
export function holdAmount(
  pricing: PriceTable,
  settings: { model: { creditsPerMinute: number }; maxDurationSeconds: number },
): number {
  return worstCaseCost(pricing, settings.model.creditsPerMinute, settings.maxDurationSeconds);
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
  const amount = holdAmount(pricing, settings);
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
    const detail = errorDetailOf(error);
    if (detail?.reason === 'ERROR_REASON_IDEMPOTENCY_KEY_REUSED') {
      throw invalidArgument(
        'idempotencyKey',
        `"${call.idempotencyKey}" was already used for a call with different settings; use a new key`,
      );
    }
    if (detail?.reason === 'ERROR_REASON_INSUFFICIENT_CREDITS') {
      const available = detail.availableCredits;
      throw failedPrecondition(
        `not enough credits: a call of up to ${maxDurationSeconds} s on ${model.id} (${model.creditsPerMinute} credits a minute) needs ${amount} credits held, ` +
          `and ${available ?? 'fewer'} are available. Shorten maxDurationSeconds, choose a cheaper model, or add credits.`,
        { reason: 'ERROR_REASON_INSUFFICIENT_CREDITS', neededCredits: amount, availableCredits: available },
      );
    }
    return notPlaced(error);
  }
}
