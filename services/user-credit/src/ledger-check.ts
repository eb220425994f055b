import type { Queryable } from '@callgate/common';

/** One way the cached balances or the reservations disagree with the ledger. */
export interface LedgerDiscrepancy {
  userId: string;
  problem: string;
  expected: { available: number; held: number; debt: number };
  actual: { available: number; held: number; debt: number };
}

/**
 * Compares every account with the sums of its ledger entries, and each account's held credits with its
 * open reservations. The ledger is the truth: an empty list means the cached balances can be trusted.
 */
export async function checkLedger(db: Queryable, userId?: string): Promise<LedgerDiscrepancy[]> {
  const { rows } = await db.query<{
    user_id: string;
    available: string;
    held: string;
    debt: string;
    sum_available: string;
    sum_held: string;
    sum_debt: string;
    open_holds: string;
  }>(
    `SELECT a.user_id, a.available, a.held, a.debt,
            coalesce(e.available, 0) AS sum_available, coalesce(e.held, 0) AS sum_held, coalesce(e.debt, 0) AS sum_debt,
            coalesce(r.open_holds, 0) AS open_holds
       FROM credits.accounts a
       LEFT JOIN (SELECT user_id, sum(available_change) AS available, sum(held_change) AS held, sum(debt_change) AS debt
                    FROM credits.entries GROUP BY user_id) e ON e.user_id = a.user_id
       LEFT JOIN (SELECT user_id, sum(amount) AS open_holds FROM credits.reservations WHERE status = 'held'
                   GROUP BY user_id) r ON r.user_id = a.user_id
      WHERE $1::text IS NULL OR a.user_id = $1
      ORDER BY a.user_id`,
    [userId ?? null],
  );
  const problems: LedgerDiscrepancy[] = [];
  for (const row of rows) {
    const actual = { available: Number(row.available), held: Number(row.held), debt: Number(row.debt) };
    const expected = { available: Number(row.sum_available), held: Number(row.sum_held), debt: Number(row.sum_debt) };
    if (actual.available !== expected.available || actual.held !== expected.held || actual.debt !== expected.debt) {
      problems.push({
        userId: row.user_id,
        problem: 'account differs from the sum of its ledger entries',
        expected,
        actual,
      });
    }
    if (Number(row.open_holds) !== expected.held) {
      problems.push({
        userId: row.user_id,
        problem: `held credits by the ledger (${expected.held}) differ from open reservations (${row.open_holds})`,
        expected,
        actual,
      });
    }
  }
  return problems;
}

/** Rewrites the cached balances from the ledger (after a manual correction, say). Returns how many changed. */
export async function rebuildBalances(db: Queryable, now: Date): Promise<number> {
  const result = await db.query(
    `UPDATE credits.accounts a
        SET available = e.available, held = e.held, debt = e.debt, updated_at = $1
       FROM (SELECT user_id, sum(available_change) AS available, sum(held_change) AS held, sum(debt_change) AS debt
               FROM credits.entries GROUP BY user_id) e
      WHERE e.user_id = a.user_id AND (a.available, a.held, a.debt) IS DISTINCT FROM (e.available, e.held, e.debt)`,
    [now],
  );
  return result.rowCount;
}
