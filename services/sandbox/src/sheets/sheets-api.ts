import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Clock, type Logger, systemClock } from '@callgate/common';
import { type A1Range, formatRange, parseA1 } from './a1.js';

/** Faults the admin endpoint injects, so tests and `npm start` can show what the real API does on a bad day. */
export type SheetsFault =
  /** Every request has its connection reset, as if the API were unreachable. */
  | { mode: 'outage' }
  /** The next `count` requests (all, when absent) answer 503 UNAVAILABLE. */
  | { mode: '5xx'; count?: number }
  /** The next `count` requests (all, when absent) answer 429 RESOURCE_EXHAUSTED, with Retry-After when given. */
  | { mode: '429'; count?: number; retryAfterSeconds?: number }
  /** Every request waits `latencyMs` before it is served. */
  | { mode: 'latency'; latencyMs: number }
  | { mode: 'none' };

export interface SheetsSandboxOptions {
  /** Write requests (and, separately, read requests) per minute before 429, like the API's per-minute quota. */
  quotaPerMinute: number;
  log: Logger;
  /** Clock of the quota window. Default systemClock. */
  clock?: Clock;
}

/** What happened, for tests and benchmarks: requests by kind and answer, and the busiest minute seen. */
export interface SheetsSandboxStats {
  writeRequests: number;
  readRequests: number;
  ok: number;
  rejected429: number;
  quota429: number;
  injected5xx: number;
  resets: number;
  maxWritesPerMinute: number;
  maxReadsPerMinute: number;
  quotaPerMinute: number;
}

interface Sheet {
  sheetId: number;
  rows: string[][];
}

interface Spreadsheet {
  sheets: Map<string, Sheet>;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details?: unknown[],
  ) {
    super(message);
  }
  body() {
    return {
      error: {
        code: this.code,
        message: this.message,
        status: this.status,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

const quotaError = (kind: 'Write' | 'Read', retryAfterSeconds?: number) =>
  new ApiError(
    429,
    'RESOURCE_EXHAUSTED',
    `Quota exceeded for quota metric '${kind} requests' and limit '${kind} requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.`,
    retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : {},
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'RATE_LIMIT_EXCEEDED',
        domain: 'googleapis.com',
        metadata: {
          quota_metric: `sheets.googleapis.com/${kind.toLowerCase()}_requests`,
          quota_limit: `${kind}RequestsPerMinutePerUser`,
          service: 'sheets.googleapis.com',
          consumer: 'projects/000000000000',
        },
      },
    ],
  );

const badRange = (range: string) => new ApiError(400, 'INVALID_ARGUMENT', `Unable to parse range: ${range}`);

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Google Sheets v4, the parts sheets-sync uses: spreadsheets.get, values.get, values.update,
 * values:batchUpdate and values:append, with the real paths and JSON shapes. Spreadsheets and tabs
 * come into being when first written (no setup in local runs); reading one never written is a 404. Write and read requests each have a
 * per-minute quota (a sliding window) answered with Google's 429 body.
 */
export class SheetsSandbox {
  private readonly spreadsheets = new Map<string, Spreadsheet>();
  private readonly clock: Clock;
  private quotaPerMinute: number;
  private fault: SheetsFault = { mode: 'none' };
  private faultLeft = Number.POSITIVE_INFINITY;
  private readonly windows = { write: [] as number[], read: [] as number[] };
  private stats: SheetsSandboxStats;

  constructor(private readonly options: SheetsSandboxOptions) {
    this.clock = options.clock ?? systemClock;
    this.quotaPerMinute = options.quotaPerMinute;
    this.stats = this.emptyStats();
  }

  private emptyStats(): SheetsSandboxStats {
    return {
      writeRequests: 0,
      readRequests: 0,
      ok: 0,
      rejected429: 0,
      quota429: 0,
      injected5xx: 0,
      resets: 0,
      maxWritesPerMinute: 0,
      maxReadsPerMinute: 0,
      quotaPerMinute: this.quotaPerMinute,
    };
  }

  setFault(fault: SheetsFault): void {
    this.fault = fault;
    this.faultLeft = 'count' in fault && fault.count !== undefined ? fault.count : Number.POSITIVE_INFINITY;
  }

  /** Forgets data, counters and faults; optionally a new quota. */
  reset(quotaPerMinute?: number): void {
    this.spreadsheets.clear();
    this.windows.write = [];
    this.windows.read = [];
    if (quotaPerMinute) this.quotaPerMinute = quotaPerMinute;
    this.stats = this.emptyStats();
    this.setFault({ mode: 'none' });
  }

  getStats(): SheetsSandboxStats {
    return { ...this.stats };
  }

  /** The rows of a tab (tests look at the sheet without spending quota). */
  rows(spreadsheetId: string, sheet: string): string[][] {
    return (this.spreadsheets.get(spreadsheetId)?.sheets.get(sheet)?.rows ?? []).map((r) => [...r]);
  }

  /**
   * /sandbox/sheets/...: POST faults ({mode, ...} as SheetsFault), GET stats, POST reset ({quotaPerMinute}),
   * GET spreadsheets/{id}/sheets/{tab} (the raw rows, outside the quota). Not part of Google's API.
   */
  async serveAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      if (path === '/sandbox/sheets/faults' && req.method === 'POST') {
        const fault = (await readJson(req)) as SheetsFault;
        if (!['outage', '5xx', '429', 'latency', 'none'].includes(fault?.mode)) {
          return send(res, 400, { error: 'mode must be one of outage, 5xx, 429, latency, none' });
        }
        this.setFault(fault);
        return send(res, 200, { fault });
      }
      if (path === '/sandbox/sheets/stats' && req.method === 'GET') return send(res, 200, this.getStats());
      const tab = /^\/sandbox\/sheets\/spreadsheets\/([^/]+)\/sheets\/([^/]+)$/.exec(path);
      if (tab?.[1] && tab[2] && req.method === 'GET') {
        return send(res, 200, { rows: this.rows(decodeURIComponent(tab[1]), decodeURIComponent(tab[2])) });
      }
      if (path === '/sandbox/sheets/reset' && req.method === 'POST') {
        const body = (await readJson(req)) as { quotaPerMinute?: number } | undefined;
        this.reset(body?.quotaPerMinute);
        return send(res, 200, this.getStats());
      }
      send(res, 404, { error: 'not found' });
    } catch (error) {
      send(res, 400, { error: (error as Error).message });
    }
  }

  /** /v4/spreadsheets/...; never rejects. */
  async serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const fault = this.fault;
    if (fault.mode === 'outage') {
      this.stats.resets++;
      req.socket.destroy();
      return;
    }
    if (fault.mode === 'latency') await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    try {
      const reply = await this.route(req, url);
      this.stats.ok++;
      send(res, 200, reply);
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError(500, 'INTERNAL', 'Internal error encountered.');
      if (!(error instanceof ApiError)) this.options.log.error({ err: error }, 'Sheets stand-in failed');
      if (failure.code === 429) this.stats.rejected429++;
      send(res, failure.code, failure.body(), failure.headers);
    }
  }

  /** Counts the request against its quota, or refuses it; injected faults come after the quota, as a real failure would. */
  private admit(kind: 'write' | 'read'): void {
    const now = this.clock.now();
    const window = this.windows[kind];
    while (window.length && (window[0] as number) <= now - 60_000) window.shift();
    if (kind === 'write') this.stats.writeRequests++;
    else this.stats.readRequests++;
    if (window.length >= this.quotaPerMinute) {
      this.stats.quota429++;
      throw quotaError(kind === 'write' ? 'Write' : 'Read', 60 - Math.floor((now - (window[0] as number)) / 1000));
    }
    window.push(now);
    const key = kind === 'write' ? 'maxWritesPerMinute' : 'maxReadsPerMinute';
    this.stats[key] = Math.max(this.stats[key], window.length);
    const fault = this.fault;
    if ((fault.mode === '5xx' || fault.mode === '429') && this.faultLeft > 0) {
      this.faultLeft--;
      if (fault.mode === '5xx') {
        this.stats.injected5xx++;
        throw new ApiError(503, 'UNAVAILABLE', 'The service is currently unavailable.');
      }
      throw quotaError(kind === 'write' ? 'Write' : 'Read', fault.retryAfterSeconds);
    }
  }

  private async route(req: IncomingMessage, url: URL): Promise<unknown> {
    const method = req.method ?? 'GET';
    const match = /^\/v4\/spreadsheets\/([^/:]+)(.*)$/.exec(url.pathname);
    if (!match?.[1]) throw new ApiError(404, 'NOT_FOUND', 'Requested entity was not found.');
    const id = decodeURIComponent(match[1]);
    const rest = match[2] ?? '';
    // Reads of a spreadsheet nobody wrote to answer 404, as for an id that does not exist; the first
    // write creates it (local runs need no setup).
    const book = method === 'GET' ? this.spreadsheets.get(id) : this.book(id);
    if (!book) throw new ApiError(404, 'NOT_FOUND', 'Requested entity was not found.');
    if (rest === '' && method === 'GET') {
      this.admit('read');
      return this.describe(id, book);
    }
    if (rest === '/values:batchUpdate' && method === 'POST') {
      const body = (await readJson(req)) as { data?: { range: string; values?: unknown[][] }[] };
      this.admit('write');
      return this.batchUpdate(id, book, body?.data ?? []);
    }
    if (rest.startsWith('/values/')) {
      const raw = rest.slice('/values/'.length);
      if (method === 'POST' && raw.endsWith(':append')) {
        const body = (await readJson(req)) as { values?: unknown[][] };
        this.admit('write');
        return this.append(id, book, decodeURIComponent(raw.slice(0, -':append'.length)), body?.values ?? []);
      }
      const range = decodeURIComponent(raw);
      if (method === 'GET') {
        this.admit('read');
        return this.get(book, range);
      }
      if (method === 'PUT') {
        const body = (await readJson(req)) as { values?: unknown[][] };
        this.admit('write');
        const [response] = this.batchUpdate(id, book, [{ range, values: body?.values ?? [] }]).responses;
        return response;
      }
    }
    throw new ApiError(404, 'NOT_FOUND', 'Requested entity was not found.');
  }

  private book(id: string): Spreadsheet {
    let book = this.spreadsheets.get(id);
    if (!book) {
      book = { sheets: new Map([['Sheet1', { sheetId: 0, rows: [] }]]) };
      this.spreadsheets.set(id, book);
    }
    return book;
  }

  private sheet(book: Spreadsheet, range: A1Range, create: boolean): [string, Sheet] {
    const name = range.sheet ?? (book.sheets.keys().next().value as string);
    let sheet = book.sheets.get(name);
    if (!sheet) {
      if (!create) throw badRange(name);
      sheet = { sheetId: book.sheets.size, rows: [] };
      book.sheets.set(name, sheet);
    }
    return [name, sheet];
  }

  private describe(id: string, book: Spreadsheet) {
    return {
      spreadsheetId: id,
      properties: { title: `Sandbox ${id}`, locale: 'en_US', timeZone: 'Etc/GMT' },
      sheets: [...book.sheets].map(([title, sheet], index) => ({
        properties: {
          sheetId: sheet.sheetId,
          title,
          index,
          sheetType: 'GRID',
          gridProperties: { rowCount: Math.max(1000, sheet.rows.length), columnCount: 26 },
        },
      })),
      spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${id}/edit`,
    };
  }

  private write(sheet: Sheet, row: number, column: number, values: unknown[][]): { rows: number; columns: number } {
    let columns = 0;
    values.forEach((cells, i) => {
      const r = row - 1 + i;
      while (sheet.rows.length <= r) sheet.rows.push([]);
      const target = sheet.rows[r] as string[];
      cells.forEach((cell, j) => {
        while (target.length < column - 1 + j) target.push('');
        target[column - 1 + j] = cell === null || cell === undefined ? '' : String(cell);
      });
      columns = Math.max(columns, cells.length);
    });
    return { rows: values.length, columns };
  }

  private batchUpdate(id: string, book: Spreadsheet, data: { range: string; values?: unknown[][] }[]) {
    const responses = data.map(({ range, values = [] }) => {
      const parsed = parseA1(range);
      if (!parsed) throw badRange(range);
      const [name, sheet] = this.sheet(book, parsed, true);
      const { rows, columns } = this.write(sheet, parsed.startRow, parsed.startColumn, values);
      return {
        spreadsheetId: id,
        updatedRange: formatRange(
          name,
          parsed.startColumn,
          parsed.startRow,
          parsed.startColumn + columns - 1,
          parsed.startRow + rows - 1,
        ),
        updatedRows: rows,
        updatedColumns: columns,
        updatedCells: values.reduce((n, r) => n + r.length, 0),
      };
    });
    return {
      spreadsheetId: id,
      totalUpdatedRows: responses.reduce((n, r) => n + r.updatedRows, 0),
      totalUpdatedColumns: Math.max(0, ...responses.map((r) => r.updatedColumns)),
      totalUpdatedCells: responses.reduce((n, r) => n + r.updatedCells, 0),
      totalUpdatedSheets: new Set(data.map((d) => parseA1(d.range)?.sheet)).size,
      responses,
    };
  }

  /** Appends after the last row that holds anything (the API's table detection, for one table per sheet). */
  private append(id: string, book: Spreadsheet, range: string, values: unknown[][]) {
    const parsed = parseA1(range);
    if (!parsed) throw badRange(range);
    const [name, sheet] = this.sheet(book, parsed, true);
    let last = sheet.rows.length;
    while (last > 0 && (sheet.rows[last - 1] as string[]).every((c) => c === '')) last--;
    const width = Math.max(1, ...sheet.rows.slice(0, last).map((r) => r.length));
    const { rows, columns } = this.write(sheet, last + 1, parsed.startColumn, values);
    return {
      spreadsheetId: id,
      ...(last > 0 ? { tableRange: formatRange(name, 1, 1, width, last) } : {}),
      updates: {
        spreadsheetId: id,
        updatedRange: formatRange(name, parsed.startColumn, last + 1, parsed.startColumn + columns - 1, last + rows),
        updatedRows: rows,
        updatedColumns: columns,
        updatedCells: values.reduce((n, r) => n + r.length, 0),
      },
    };
  }

  private get(book: Spreadsheet, range: string) {
    const parsed = parseA1(range);
    if (!parsed) throw badRange(range);
    const [name, sheet] = this.sheet(book, parsed, false);
    const endRow = Math.min(parsed.endRow ?? sheet.rows.length, sheet.rows.length);
    const values: string[][] = [];
    for (let r = parsed.startRow; r <= endRow; r++) {
      const row = sheet.rows[r - 1] ?? [];
      const cells = row.slice(parsed.startColumn - 1, parsed.endColumn);
      while (cells.length && cells[cells.length - 1] === '') cells.pop();
      values.push(cells);
    }
    while (values.length && (values[values.length - 1] as string[]).length === 0) values.pop();
    const lastColumn =
      parsed.endColumn ?? Math.max(parsed.startColumn, ...values.map((v) => parsed.startColumn + v.length - 1));
    return {
      range: formatRange(
        name,
        parsed.startColumn,
        parsed.startRow,
        lastColumn,
        Math.max(parsed.startRow, parsed.endRow ?? 1000),
      ),
      majorDimension: 'ROWS',
      ...(values.length ? { values } : {}),
    };
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'INVALID_ARGUMENT', 'Request payload size exceeds the limit.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers }).end(JSON.stringify(body));
}
