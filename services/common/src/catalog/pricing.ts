import { z } from 'zod';

/**
 * The price table: the one place that turns seconds on the phone into credits. Credits are integers;
 * rounding happens once, here, upward, so a call is never charged a fraction nor undercharged.
 */
export const priceTableSchema = z.object({
  /** "started-minute": every started minute is charged in full (a 61 s call is 2 minutes). "second": pro rata, rounded up. */
  rounding: z.enum(['started-minute', 'second']),
  /** The least an answered call costs; 0 for none. */
  minimumChargeCredits: z.number().int().min(0),
  /** Credits per minute for each model tier. */
  tiers: z.record(z.string().min(1), z.object({ creditsPerMinute: z.number().int().positive() })),
});

export type PriceTable = z.infer<typeof priceTableSchema>;

/**
 * What a call of this length costs on a model of this price. A call that never connected
 * (0 seconds) costs nothing; any connected call costs at least the minimum charge.
 */
export function callCost(table: PriceTable, creditsPerMinute: number, durationSeconds: number): number {
  if (!Number.isInteger(durationSeconds) || durationSeconds < 0) {
    throw new RangeError(`duration must be a whole number of seconds ≥ 0, got ${durationSeconds}`);
  }
  if (durationSeconds === 0) return 0;
  const cost =
    table.rounding === 'started-minute'
      ? Math.ceil(durationSeconds / 60) * creditsPerMinute
      : Math.ceil((durationSeconds * creditsPerMinute) / 60);
  return Math.max(cost, table.minimumChargeCredits);
}

/** The hold for a call: what it would cost if it ran to its time limit. */
export function worstCaseCost(table: PriceTable, creditsPerMinute: number, maxDurationSeconds: number): number {
  return callCost(table, creditsPerMinute, Math.max(1, maxDurationSeconds));
}
