import { randomUUID } from 'node:crypto';
import { type Clock, type Logger, systemClock, type TokenBucket } from '@callgate/common';
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  CountBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  type IBreaker,
} from 'cockatiel';
import { type ColumnName, cellsOf, columnLetter, headerRow, quoteSheet } from './columns.js';
import type { ClaimedRow, RowStore, WorkKind } from './row-store.js';
import {
  classify,
  firstRowOf,
  isOutage,
  type RequestResult,
  type SheetsApi,
  SheetsRequestError,
} from './sheets-api.js';

/** Everything the writer observes, for Prometheus (metrics.ts) and tests. */
/** How long an append may take at worst (request timeout and its retries): rows must stay leased that long. */
const APPEND_LEASE_MARGIN_MS = 60_000;

export interface WriterEvents {
  request(kind: 'append' | 'update' | 'read' | 'header', result: RequestResult, rows: number): void;
  rowsWritten(rows: number): void;
}

export interface WriterOptions {
  store: RowStore;
  api: SheetsApi;
  writeBucket: TokenBucket;
  readBucket: TokenBucket;
  /** The tab and the columns after the call id (column A). */
  tab: string;
  columns: readonly ColumnName[];
  /** Most rows in one request. */
  maxRows: number;
  /** Largest JSON payload of the rows of one request. */
  maxBytes: number;
  /** A pending row is written at the latest this long after it changed, full batch or not. */
  flushAgeMs: number;
  /** Consecutive outage failures that open the breaker, and how long it stays open before a probe. */
  breakerFailures: number;
  halfOpenAfterMs: number;
  /** Cap of the jittered exponential back-off after a failure. */
  backoffMaxMs: number;
  /** How long a claimed batch is ours; past it another replica may take the rows (we crashed). */
  leaseMs?: number;
  /** The clock. cockatiel's breaker reads Date.now itself; tests mock Date and pass systemClock for both. */
  clock?: Clock;
  log: Logger;
  events?: Partial<WriterEvents>;
  /** This replica's name on leases. Default: a random id. */
  owner?: string;
}

/** Opens when either breaker would: consecutive failures, or a failure rate over the last requests. */
export class EitherBreaker implements IBreaker {
  constructor(
    private readonly a: IBreaker,
    private readonly b: IBreaker,
  ) {}
  get state(): unknown {
    return [this.a.state, this.b.state];
  }
  set state(value: unknown) {
    const [a, b] = value as [unknown, unknown];
    this.a.state = a;
    this.b.state = b;
  }
  success(state: CircuitState): void {
    this.a.success(state);
    this.b.success(state);
  }
  failure(state: CircuitState): boolean {
    // Both see every failure, so neither's window has gaps.
    const a = this.a.failure(state);
    const b = this.b.failure(state);
    return a || b;
  }
}

/** What one cycle did, and how long the loop should wait before the next (it is woken earlier by new rows). */
export interface CycleResult {
  did: 'idle' | 'waiting' | WorkKind | 'header' | 'failed' | 'breaker-open';
  waitMs: number;
}

/**
 * The write loop: one API request per cycle at most, each paid for with a token first. Rows come from
 * sheets.rows (durable: the queue and the outbox are one table), most urgent first, batched by kind
 * (append for rows never written, values.batchUpdate for rewrites). A failure leaves the rows dirty;
 * the breaker stops the loop while the API is down and a probe reopens it.
 */
export class SheetsWriter {
  readonly breaker: CircuitBreakerPolicy;
  private readonly clock: Clock;
  private readonly owner: string;
  private readonly leaseMs: number;
  private headerWritten = false;
  private openedAt: number | undefined;
  private backoff: IBackoff<unknown> | undefined;
  private readonly backoffFactory: ExponentialBackoff<unknown>;
  private running = false;
  private idle = false;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  /** Send times of this replica's write requests in the last minute (GetSyncStatus). */
  private readonly recentWrites: number[] = [];
  lastSuccessAt: number | undefined;
  lastError: string | undefined;

  constructor(private readonly options: WriterOptions) {
    this.clock = options.clock ?? systemClock;
    this.owner = options.owner ?? randomUUID();
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    // 429 and other 4xx are answers of a working API: only outages count towards opening the breaker.
    this.breaker = circuitBreaker(handleWhen(isOutage), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new EitherBreaker(
        new ConsecutiveBreaker(options.breakerFailures),
        // A flaky API (every other request failing) never gives n in a row; half of the last 20 does it.
        new CountBreaker({ threshold: 0.5, size: 20, minimumNumberOfCalls: 10 }),
      ),
    });
    this.breaker.onBreak(() => {
      this.openedAt = this.clock.now();
      options.log.warn(
        { halfOpenAfterMs: options.halfOpenAfterMs },
        'Sheets API breaker opened: rows wait in the outbox',
      );
    });
    this.breaker.onReset(() => {
      this.openedAt = undefined;
      options.log.info('Sheets API breaker closed: draining the outbox');
    });
    this.backoffFactory = new ExponentialBackoff({ initialDelay: 500, maxDelay: options.backoffMaxMs });
  }

  get breakerState(): 'closed' | 'open' | 'half-open' {
    const s = this.breaker.state;
    return s === CircuitState.Closed ? 'closed' : s === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  writeRequestsLastMinute(): number {
    const since = this.clock.now() - 60_000;
    while (this.recentWrites.length && (this.recentWrites[0] as number) <= since) this.recentWrites.shift();
    return this.recentWrites.length;
  }

  /**
   * New rows arrived: wake the loop if it sleeps with nothing to do. A loop waiting for the flush age,
   * a token or the breaker wakes by itself; waking it on every row would only cost queries.
   */
  notify(): void {
    if (this.idle) this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = (async () => {
      while (this.running) {
        let waitMs: number;
        try {
          const result = await this.cycle();
          waitMs = result.waitMs;
          this.idle = result.did === 'idle';
        } catch (error) {
          // The database or Redis failed (not the API): the rows are safe; look again shortly.
          this.options.log.warn({ err: error }, 'sheets writer cycle failed');
          waitMs = 1000;
        }
        if (waitMs > 0 && this.running) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, waitMs);
            function done() {
              clearTimeout(timer);
              resolve();
            }
            this.wake = done;
          });
          this.wake = undefined;
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loopDone;
  }

  /** One step: decide, take a token, send at most one request, record the outcome. */
  async cycle(): Promise<CycleResult> {
    const now = this.clock.now();
    if (this.openedAt !== undefined && this.breaker.state === CircuitState.Open) {
      const left = this.openedAt + this.options.halfOpenAfterMs - now;
      if (left > 0) return { did: 'breaker-open', waitMs: left };
    }
    if (this.backoff && this.backoffUntil > now) return { did: 'waiting', waitMs: this.backoffUntil - now };

    const stats = await this.options.store.stats();
    if (stats.depth === 0) return { did: 'idle', waitMs: 60_000 };
    const age = stats.oldestDirtySince ? now - stats.oldestDirtySince.getTime() : 0;
    // Flush by size or age: a full batch goes at once, a partial one once its oldest row is old enough.
    if (stats.depth < this.options.maxRows && age < this.options.flushAgeMs) {
      return { did: 'waiting', waitMs: this.options.flushAgeMs - age };
    }
    const kind = await this.options.store.nextKind(new Date(now));
    if (!kind) return { did: 'waiting', waitMs: Math.min(this.leaseMs, 5000) }; // all leased by other replicas
    // The header first, once per process: appends must find it in row 1, and it makes sure the tab exists.
    if (!this.headerWritten) return this.writeHeader();

    const bucket = kind === 'reconcile' ? this.options.readBucket : this.options.writeBucket;
    const token = await bucket.take(1);
    if (!token.granted) return { did: 'waiting', waitMs: Math.max(1, token.waitMs) };

    const claimed = await this.options.store.claim(kind, this.owner, new Date(now), this.leaseMs, this.options.maxRows);
    if (claimed.length === 0) return { did: 'waiting', waitMs: 50 };
    if (kind === 'reconcile') return this.reconcile(claimed);
    const batch = await this.cutToSize(claimed);
    return kind === 'append' ? this.append(batch) : this.update(batch);
  }

  private backoffUntil = 0;

  private get lastColumn(): string {
    return columnLetter(this.options.columns.length + 1);
  }

  private cells(row: ClaimedRow): string[] {
    return cellsOf(row.callId, row.fields, this.options.columns);
  }

  /** Keeps the request under maxBytes; the rest goes back to the queue for the next request. */
  private async cutToSize(rows: ClaimedRow[]): Promise<ClaimedRow[]> {
    let bytes = 200;
    let keep = 0;
    for (const row of rows) {
      const size = JSON.stringify(this.cells(row)).length + 40;
      if (keep > 0 && bytes + size > this.options.maxBytes) break;
      bytes += size;
      keep++;
    }
    await this.options.store.release(
      rows.slice(keep).map((r) => r.callId),
      this.owner,
    );
    return rows.slice(0, keep);
  }

  private async send<T>(
    kind: 'append' | 'update' | 'read' | 'header',
    rows: number,
    request: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; error: SheetsRequestError; broken: boolean }> {
    if (kind !== 'read') this.recentWrites.push(this.clock.now());
    try {
      // Classified inside the breaker, so that it sees what kind of failure it was (gaxios errors are raw).
      const value = await this.breaker.execute(async () => {
        try {
          return await request();
        } catch (error) {
          throw classify(error, this.clock.now());
        }
      });
      this.options.events?.request?.(kind, 'ok', rows);
      this.backoff = undefined;
      this.backoffUntil = 0;
      this.lastSuccessAt = this.clock.now();
      return { ok: true, value };
    } catch (raw) {
      if (raw instanceof BrokenCircuitError) {
        // Another request is probing the half-open breaker, or it opened meanwhile: nothing was sent.
        if (kind !== 'read') this.recentWrites.pop();
        return { ok: false, error: new SheetsRequestError('circuit open', 'network'), broken: true };
      }
      const error = classify(raw, this.clock.now());
      this.options.events?.request?.(kind, error.result, rows);
      this.lastError = `${error.result}: ${error.message}`;
      return { ok: false, error, broken: false };
    }
  }

  /** After a failure: 429 empties the shared bucket (honouring Retry-After); every failure backs off with jitter. */
  private async failed(
    failure: { error: SheetsRequestError; broken: boolean },
    rowIds: string[],
    options: { clearPending: boolean; bucket: TokenBucket },
  ): Promise<CycleResult> {
    const { error } = failure;
    const now = this.clock.now();
    if (failure.broken) {
      await this.options.store.release(rowIds, this.owner);
      const left = (this.openedAt ?? now) + this.options.halfOpenAfterMs - now;
      return { did: 'breaker-open', waitMs: Math.max(50, left) };
    }
    await this.options.store.markFailed(rowIds, this.owner, this.lastError ?? error.message, options.clearPending);
    this.backoff = (this.backoff ?? this.backoffFactory).next(undefined);
    let waitMs = this.backoff.duration;
    if (error.result === '429') {
      waitMs = Math.max(waitMs, error.retryAfterMs ?? 0);
      await options.bucket.drain(waitMs);
    }
    this.backoffUntil = now + waitMs;
    this.options.log.warn(
      { result: error.result, waitMs, rows: rowIds.length },
      'Sheets API request failed; rows kept in the outbox',
    );
    return { did: 'failed', waitMs };
  }

  private async writeHeader(): Promise<CycleResult> {
    const token = await this.options.writeBucket.take(1);
    if (!token.granted) return { did: 'waiting', waitMs: Math.max(1, token.waitMs) };
    const range = `${quoteSheet(this.options.tab)}!A1:${this.lastColumn}1`;
    const result = await this.send('header', 0, () =>
      this.options.api.batchUpdate([{ range, values: [headerRow(this.options.columns)] }]),
    );
    if (!result.ok) return this.failed(result, [], { clearPending: false, bucket: this.options.writeBucket });
    this.headerWritten = true;
    return { did: 'header', waitMs: 0 };
  }

  private async append(claimed: ClaimedRow[]): Promise<CycleResult> {
    // Persisted before the request: if we crash or the answer is lost, the rows are looked up, not appended
    // twice. Only rows still leased for the whole request go (a stalled writer's lease may have passed on).
    const marked = await this.options.store.markAppendPending(
      claimed,
      this.owner,
      new Date(this.clock.now() + APPEND_LEASE_MARGIN_MS),
    );
    const rows = claimed.filter((r) => marked.has(r.callId));
    if (rows.length === 0) return { did: 'waiting', waitMs: 0 };
    const ids = rows.map((r) => r.callId);
    const range = `${quoteSheet(this.options.tab)}!A1:${this.lastColumn}1`;
    const result = await this.send('append', rows.length, () =>
      this.options.api.append(
        range,
        rows.map((r) => this.cells(r)),
      ),
    );
    if (!result.ok) {
      // A 429 or 4xx was refused before anything was written; a 5xx, timeout or lost connection may have landed.
      const surelyNotWritten = result.broken || result.error.result === '429' || result.error.result === '4xx';
      return this.failed(result, ids, { clearPending: surelyNotWritten, bucket: this.options.writeBucket });
    }
    const first = firstRowOf(result.value.updatedRange);
    await this.options.store.markWritten(
      rows.map((r, i) => ({ callId: r.callId, version: r.version, sheetRowNumber: first + i })),
      this.owner,
    );
    this.options.events?.rowsWritten?.(rows.length);
    return { did: 'append', waitMs: 0 };
  }

  private async update(rows: ClaimedRow[]): Promise<CycleResult> {
    const tab = quoteSheet(this.options.tab);
    const data = rows.map((r) => ({
      range: `${tab}!A${r.sheetRowNumber}:${this.lastColumn}${r.sheetRowNumber}`,
      values: [this.cells(r)],
    }));
    const result = await this.send('update', rows.length, () => this.options.api.batchUpdate(data));
    if (!result.ok) {
      return this.failed(
        result,
        rows.map((r) => r.callId),
        { clearPending: false, bucket: this.options.writeBucket },
      );
    }
    await this.options.store.markWritten(
      rows.map((r) => ({ callId: r.callId, version: r.version, sheetRowNumber: r.sheetRowNumber as number })),
      this.owner,
    );
    this.options.events?.rowsWritten?.(rows.length);
    return { did: 'update', waitMs: 0 };
  }

  /** Unsure appends: read the id column once, and learn which rows are already in the sheet. */
  private async reconcile(rows: ClaimedRow[]): Promise<CycleResult> {
    const ids = rows.map((r) => r.callId);
    const result = await this.send('read', 0, () => this.options.api.get(`${quoteSheet(this.options.tab)}!A:A`));
    if (!result.ok) return this.failed(result, ids, { clearPending: false, bucket: this.options.readBucket });
    const wanted = new Set(ids);
    const found = new Map<string, number>();
    result.value.forEach((row, index) => {
      const id = row[0];
      if (id && wanted.has(id) && !found.has(id)) found.set(id, index + 1);
    });
    await this.options.store.resolveAppends(found, ids, this.owner);
    return { did: 'reconcile', waitMs: 0 };
  }
}
