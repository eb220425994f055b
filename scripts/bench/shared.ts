/** Pieces every benchmark needs: latency percentiles and funded users. */
import type { PromiseClient } from '@callgate/common';
import type { creditV1 } from '@callgate/protos';

/** The p-th percentile (nearest rank) of ascending values; NaN when there are none. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Creates `count` users with the largest single grant each, so no run is ever short of credits. */
export async function fundedUsers(
  credit: PromiseClient<creditV1.CreditServiceDefinition>,
  count: number,
  prefix: string,
): Promise<string[]> {
  const users = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await Promise.all(
    users.map(async (userId) => {
      await credit.getUser({ userId, createIfMissing: true, displayName: 'bench', email: '' });
      await credit.grant({
        userId,
        amount: 1_000_000_000,
        idempotencyKey: 'bench-funds',
        reason: 'bench',
        actor: 'bench',
      });
    }),
  );
  return users;
}
