import { type Database, decodeCursor, encodeCursor, invalidArgument, pageSize, timeBound } from '@callgate/common';
import type { creditV1 } from '@callgate/protos';
import { requireUser } from './ledger.js';

interface EntryRow {
  entry_id: string | number;
  kind: string;
  available_change: string | number;
  held_change: string | number;
  debt_change: string | number;
  charged: string | number;
  call_id: string;
  reservation_id: string | null;
  actor: string;
  description: string;
  created_at: Date;
}

/** The user's ledger entries, newest first, with per-day totals over the same range. */
export async function listUsage(
  db: Database,
  request: creditV1.ListUsageRequest__Output,
): Promise<creditV1.ListUsageResponse__Output> {
  requireUser(request.userId);
  const size = pageSize(request.pageSize);
  const cursor = decodeCursor(request.pageToken, ['before'] as const);
  const before = cursor ? Number(cursor.before) : null;
  if (before !== null && (!Number.isSafeInteger(before) || before < 1)) {
    throw invalidArgument('pageToken', 'not a page token from a previous response; start without one');
  }
  const from = timeBound('from', request.from);
  const to = timeBound('to', request.to);
  const filter = `user_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at <= $3)
                  AND ($4 = '' OR call_id = $4)`;
  const params = [request.userId, from ?? null, to ?? null, request.callId];
  const { rows } = await db.query<EntryRow>(
    `SELECT entry_id, kind, available_change, held_change, debt_change, charged, call_id, reservation_id, actor, description,
            created_at
       FROM credits.entries
      WHERE ${filter} AND ($5::bigint IS NULL OR entry_id < $5)
      ORDER BY entry_id DESC LIMIT $6`,
    [...params, before, size + 1],
  );
  const page = rows.slice(0, size);
  const daily = await db.query<{ day: string; charged: string | number; calls: string | number }>(
    `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, sum(charged) AS charged,
            count(DISTINCT call_id) FILTER (WHERE kind = 'settle' AND call_id <> '') AS calls
       FROM credits.entries WHERE ${filter}
      GROUP BY 1 ORDER BY 1`,
    params,
  );
  const last = page.at(-1);
  return {
    entries: page.map((row) => ({
      entryId: String(row.entry_id),
      kind: `ENTRY_KIND_${row.kind.toUpperCase()}` as creditV1.UsageEntry__Output['kind'],
      amount: Number(row.available_change),
      heldChange: Number(row.held_change),
      debtChange: Number(row.debt_change),
      charged: Number(row.charged),
      callId: row.call_id,
      reservationId: row.reservation_id ?? '',
      actor: row.actor,
      createdAt: row.created_at.toISOString(),
      description: row.description,
    })),
    nextPageToken: rows.length > size && last ? encodeCursor({ before: Number(last.entry_id) }) : '',
    daily: daily.rows.map((d) => ({ day: d.day, charged: Number(d.charged), calls: Number(d.calls) })),
  };
}
