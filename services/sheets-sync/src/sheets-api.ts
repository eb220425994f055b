// The Sheets API alone (the code the @googleapis/sheets package holds): the googleapis index loads every
// Google API, ~110 MB of RSS and seconds of start-up in every process that holds sheets-sync.
import { auth as googleAuth, type sheets_v4, sheets as sheetsClient } from 'googleapis/build/src/apis/sheets/index.js';
import { tracedSheetsApi } from './traced-sheets-api.js';

/** The few Sheets v4 calls sheets-sync makes; the writer depends on this, tests may stand in for it. */
export interface SheetsApi {
  /** spreadsheets.values.append (INSERT_ROWS, RAW); returns the range written, e.g. "Calls!A5:K9". */
  append(range: string, rows: string[][]): Promise<{ updatedRange: string }>;
  /** spreadsheets.values.batchUpdate (RAW) of whole rows. */
  batchUpdate(data: { range: string; values: string[][] }[]): Promise<{ updatedRows: number }>;
  /** spreadsheets.values.get. */
  get(range: string): Promise<string[][]>;
}

export type RequestResult = 'ok' | '429' | '5xx' | 'timeout' | 'network' | '4xx';

/** A failed request, classified once here so the writer, breaker and metrics agree on what happened. */
export class SheetsRequestError extends Error {
  override readonly name = 'SheetsRequestError';
  constructor(
    message: string,
    readonly result: Exclude<RequestResult, 'ok'>,
    /** From Retry-After, when the API sent one. */
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

export const isSheetsRequestError = (e: unknown): e is SheetsRequestError => e instanceof SheetsRequestError;

/** Failures that say the API is unwell (they count towards opening the breaker); 429 and 4xx do not. */
export const isOutage = (e: unknown): boolean =>
  isSheetsRequestError(e) && (e.result === '5xx' || e.result === 'timeout' || e.result === 'network');

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

interface GaxiosLikeError {
  message?: string;
  code?: string | number;
  status?: number;
  name?: string;
  response?: { status?: number; headers?: Headers | Record<string, string> };
}

export function classify(error: unknown, now: number): SheetsRequestError {
  if (isSheetsRequestError(error)) return error;
  const e = (error ?? {}) as GaxiosLikeError;
  const status = e.response?.status ?? e.status;
  const headers = e.response?.headers;
  const retryAfter =
    headers && typeof (headers as Headers).get === 'function'
      ? (headers as Headers).get('retry-after')
      : (headers as Record<string, string> | undefined)?.['retry-after'];
  const message = e.message ?? String(error);
  if (status === 429) return new SheetsRequestError(message, '429', parseRetryAfter(retryAfter, now), status);
  if (typeof status === 'number' && status >= 500) return new SheetsRequestError(message, '5xx', undefined, status);
  if (typeof status === 'number' && status >= 400) return new SheetsRequestError(message, '4xx', undefined, status);
  if (/timeout|timed out|aborted/i.test(`${message} ${e.name ?? ''} ${e.code ?? ''}`)) {
    return new SheetsRequestError(message, 'timeout');
  }
  return new SheetsRequestError(message, 'network');
}

export interface GoogleSheetsOptions {
  spreadsheetId: string;
  /** The sandbox (or another stand-in): requests go there, unauthenticated. */
  rootUrl?: string | undefined;
  /** A service-account key as JSON; without it, GOOGLE_APPLICATION_CREDENTIALS / platform credentials. */
  serviceAccountJson?: string | undefined;
  timeoutMs: number;
}

/** SheetsApi on the official googleapis client. */
export function googleSheetsApi(options: GoogleSheetsOptions): SheetsApi {
  const auth = options.rootUrl
    ? undefined
    : new googleAuth.GoogleAuth({
        scopes: ['https://www.googleapis.com/auth/spreadsheets'],
        ...(options.serviceAccountJson ? { credentials: JSON.parse(options.serviceAccountJson) } : {}),
      });
  const sheets: sheets_v4.Sheets = sheetsClient({
    version: 'v4',
    ...(auth ? { auth } : {}),
    ...(options.rootUrl ? { rootUrl: options.rootUrl.endsWith('/') ? options.rootUrl : `${options.rootUrl}/` } : {}),
    // Retries are the writer's (token bucket, breaker, jittered back-off): gaxios retrying too would
    // multiply requests against the quota behind the bucket's back.
    retry: false,
    retryConfig: { retry: 0 },
    timeout: options.timeoutMs,
  });
  const spreadsheetId = options.spreadsheetId;
  // googleapis (gaxios) is CommonJS, out of reach of auto-instrumentation: spans come from this wrapper.
  return tracedSheetsApi({
    async append(range, rows) {
      const res = await sheets.spreadsheets.values.append({
        spreadsheetId,
        range,
        valueInputOption: 'RAW',
        insertDataOption: 'INSERT_ROWS',
        requestBody: { range, majorDimension: 'ROWS', values: rows },
      });
      const updatedRange = res.data.updates?.updatedRange;
      if (!updatedRange) throw new SheetsRequestError('append answered without updates.updatedRange', '5xx');
      return { updatedRange };
    },
    async batchUpdate(data) {
      const res = await sheets.spreadsheets.values.batchUpdate({
        spreadsheetId,
        requestBody: { valueInputOption: 'RAW', data: data.map((d) => ({ ...d, majorDimension: 'ROWS' })) },
      });
      return { updatedRows: res.data.totalUpdatedRows ?? 0 };
    },
    async get(range) {
      const res = await sheets.spreadsheets.values.get({ spreadsheetId, range, majorDimension: 'ROWS' });
      return (res.data.values ?? []).map((row) => row.map((cell) => String(cell ?? '')));
    },
  });
}

/** First row number of an A1 range such as "Calls!A5:K9" or "'Call log'!A5:K9". */
export function firstRowOf(range: string): number {
  const cells = range.slice(range.lastIndexOf('!') + 1);
  const match = /^[A-Z]+(\d+)/.exec(cells);
  if (!match?.[1]) throw new Error(`cannot read the row number of range ${range}`);
  return Number(match[1]);
}
