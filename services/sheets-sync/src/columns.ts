import type { sheetsV1 } from '@callgate/protos';

/** Columns operations may choose (GOOGLE_SHEETS_COLUMNS); column A is always the call id, the row's key. */
export const COLUMN_NAMES = [
  'created_at',
  'user_id',
  'to',
  'from',
  'status',
  'duration_seconds',
  'cost_credits',
  'ended_at',
  'outcome_summary',
  'version',
] as const;
export type ColumnName = (typeof COLUMN_NAMES)[number];

/** What sheets.rows.cells holds: the call's fields as strings, so the layout can change without a migration. */
export type RowFields = Record<ColumnName, string>;

export const HEADERS: Record<ColumnName, string> = {
  created_at: 'Time',
  user_id: 'User',
  to: 'To',
  from: 'From',
  status: 'Status',
  duration_seconds: 'Duration (s)',
  cost_credits: 'Cost (credits)',
  ended_at: 'Ended',
  outcome_summary: 'Outcome',
  version: 'Version',
};

export function fieldsOf(row: sheetsV1.CallRow__Output): RowFields {
  return {
    created_at: row.createdAt,
    user_id: row.userId,
    to: row.to,
    from: row.from,
    status: row.status,
    duration_seconds: String(row.durationSeconds),
    cost_credits: String(row.costCredits),
    ended_at: row.endedAt,
    outcome_summary: row.outcomeSummary,
    version: String(row.version),
  };
}

/** The cells of one sheet row: call id, then the configured columns. */
export function cellsOf(callId: string, fields: Partial<RowFields>, columns: readonly ColumnName[]): string[] {
  return [callId, ...columns.map((c) => fields[c] ?? '')];
}

export function headerRow(columns: readonly ColumnName[]): string[] {
  return ['Call id', ...columns.map((c) => HEADERS[c])];
}

/** Column letter of a 1-based column number (1 → A, 27 → AA). */
export function columnLetter(n: number): string {
  let s = '';
  for (let i = n; i > 0; i = Math.floor((i - 1) / 26)) s = String.fromCharCode(65 + ((i - 1) % 26)) + s;
  return s;
}

/** A sheet name in A1 notation: quoted, with quotes doubled, so names with spaces or "!" work. */
export function quoteSheet(tab: string): string {
  return `'${tab.replaceAll("'", "''")}'`;
}
