/**
 * Links from batched work to the requests that fed it. A batch (a Sheets request carrying rows of many
 * calls) has no single parent; OpenTelemetry's answer is a span with links to each contributor. The
 * requests record their span here when they hand work over; the batch takes what was recorded.
 * Bounded: under a flood the oldest links are dropped rather than memory growing.
 */
import { isSpanContextValid, type Link, trace } from '@opentelemetry/api';

export class LinkCollector {
  private pending: Link[] = [];

  constructor(private readonly max = 128) {}

  /** Remembers the active span (nothing when none is active or tracing is off). */
  record(): void {
    const ctx = trace.getActiveSpan()?.spanContext();
    if (!ctx || !isSpanContextValid(ctx)) return;
    this.pending.push({ context: ctx });
    if (this.pending.length > this.max) this.pending.shift();
  }

  /** Everything recorded since the last take. */
  take(): Link[] {
    return this.pending.splice(0);
  }
}
