import {
  ACTIVE_STATUSES,
  type CallStatus,
  type Database,
  decodeCursor,
  encodeCursor,
  invalidArgument,
  pageSize,
  sqlStatusList,
} from '@callgate/common';

/** A call the poller's sweep should refresh: not terminal, and nothing heard about it for a while. */
export interface StaleCallRow {
  call_id: string;
  status: CallStatus;
  created_at: Date;
  updated_at: Date;
  urgency: number;
  /** updated_at as PostgreSQL prints it (microseconds), so the cursor never rounds past a row. */
  updated_key: string;
}

export interface StaleCallsPage {
  calls: StaleCallRow[];
  nextCursor: string;
  remaining: number;
}

/*
 * Urgency: an in-progress call past its max duration should have ended (its final callback was lost, and
 * it may still be held on credits); then ringing, initiated, queued. Calls without a carrier id are not
 * listed: nothing can be asked about them, and the call service's own recovery dials or fails them.
 * An in-progress call within its max duration is talking and not stale, whatever its updated_at.
 */
const STALE = `
  SELECT call_id, status, created_at, updated_at,
         to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS updated_key,
         CASE status WHEN 'in-progress' THEN 0 WHEN 'ringing' THEN 1 WHEN 'initiated' THEN 2 ELSE 3 END AS urgency
    FROM calls.calls
   WHERE status IN (${sqlStatusList(ACTIVE_STATUSES)})
     AND carrier_call_id IS NOT NULL
     AND updated_at < $1
     AND (status <> 'in-progress'
          OR coalesce(answered_at, updated_at) + make_interval(secs => max_duration_seconds) < $1)`;

/**
 * One page of stale calls, most urgent first and oldest first within an urgency, by keyset paging on
 * (urgency, updated_at, call_id): a call refreshed meanwhile moves past updated_before and drops out,
 * and the cursor never repeats or skips the others.
 */
export async function listStaleCalls(
  db: Database,
  request: { updatedBefore: string; limit: number; after: string },
): Promise<StaleCallsPage> {
  if (!request.updatedBefore || Number.isNaN(Date.parse(request.updatedBefore))) {
    throw invalidArgument(
      'updatedBefore',
      `an RFC 3339 time is required, got ${JSON.stringify(request.updatedBefore)}`,
    );
  }
  const before = new Date(request.updatedBefore);
  const size = pageSize(request.limit, { fallback: 100, max: 1000 });
  const after = decodeCursor(request.after, ['u', 't', 'id'] as const);
  const keyset = after ? 'WHERE (urgency, updated_at, call_id) > ($3::integer, $4::timestamptz, $5::uuid)' : '';
  const params: unknown[] = [before, size + 1];
  if (after) params.push(Number(after.u), String(after.t), String(after.id));
  const { rows } = await db.query<StaleCallRow>(
    `SELECT * FROM (${STALE}) s ${keyset} ORDER BY urgency, updated_at, call_id LIMIT $2`,
    params,
  );
  const page = rows.slice(0, size);
  const last = page.at(-1);
  const more = rows.length > size && last;
  let remaining = 0;
  if (more) {
    const count = await db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM (${STALE}) s WHERE (urgency, updated_at, call_id) > ($2::integer, $3::timestamptz, $4::uuid)`,
      [before, last.urgency, last.updated_key, last.call_id],
    );
    remaining = Number(count.rows[0]?.n ?? 0);
  }
  return {
    calls: page,
    nextCursor: more ? encodeCursor({ u: last.urgency, t: last.updated_key, id: last.call_id }) : '',
    remaining,
  };
}
