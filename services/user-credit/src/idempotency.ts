import { createHash } from 'node:crypto';
import { invalidArgument, type Queryable } from '@callgate/common';

/** A stable fingerprint of a request, so a reused key with different content is caught. */
export function fingerprint(request: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(request)
      .sort()
      .map((key) => [key, request[key]]),
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Runs `apply` at most once per (scope, key), inside the caller's transaction, and returns the first
 * result to every later request with the same key.
 *
 * The key row is inserted first: a concurrent request with the same key blocks on the primary key until
 * this transaction ends, then finds the committed row and replays its result. When `apply` throws, the
 * transaction rolls back with the key, so a refused request (say, not enough credit) can be retried.
 */
export async function once<T>(
  tx: Queryable,
  claim: { scope: string; key: string; request: Record<string, unknown>; now: Date },
  apply: () => Promise<T>,
): Promise<{ result: T; replayed: boolean }> {
  const hash = fingerprint(claim.request);
  const inserted = await tx.query(
    `INSERT INTO credits.idempotency (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (scope, key) DO NOTHING`,
    [claim.scope, claim.key, hash, claim.now],
  );
  if (inserted.rowCount === 0) {
    const { rows } = await tx.query<{ request_hash: string; response: T | string }>(
      'SELECT request_hash, response FROM credits.idempotency WHERE scope = $1 AND key = $2',
      [claim.scope, claim.key],
    );
    const first = rows[0];
    if (!first || first.response === null) throw new Error(`idempotency row ${claim.scope}/${claim.key} vanished`);
    if (first.request_hash !== hash) {
      throw invalidArgument(
        'idempotencyKey',
        `"${claim.key}" was already used for a different request; use a new key for a new operation`,
        { reason: 'ERROR_REASON_IDEMPOTENCY_KEY_REUSED' },
      );
    }
    const response = typeof first.response === 'string' ? (JSON.parse(first.response) as T) : first.response;
    return { result: response, replayed: true };
  }
  const result = await apply();
  await tx.query('UPDATE credits.idempotency SET response = $3 WHERE scope = $1 AND key = $2', [
    claim.scope,
    claim.key,
    JSON.stringify(result),
  ]);
  return { result, replayed: false };
}
