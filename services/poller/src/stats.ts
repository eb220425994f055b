import type { Clock } from '@callgate/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Outcome, ReceivedMessage } from './consumer.js';
import { type Checkpoint, NO_CHECKPOINT } from './sweep.js';

/**
 * The poller's metrics, in Prometheus and as plain numbers for GetStatus (the same figures both ways).
 * Queue lag is the age of the oldest message of the latest receive (SentTimestamp): fauxqs does not
 * report ApproximateAgeOfOldestMessage, and message timestamps work on every SQS.
 */
export class PollerStats {
  received = 0;
  processed = 0;
  failed = 0;
  deadLettered = 0;
  duplicates = 0;
  refreshed = 0;
  transitions = 0;
  queueLagSeconds = 0;
  private latencySum = 0;
  private latencyCount = 0;
  /** Where the sweep stands on this replica (leader or standby), read when metrics are scraped. */
  sweep: () => { leader: boolean; checkpoint: Checkpoint } = () => ({ leader: false, checkpoint: NO_CHECKPOINT });

  private readonly metrics;

  constructor(
    registry: Registry,
    private readonly clock: Clock,
    private readonly maxReceiveCount: number,
  ) {
    const registers = [registry];
    this.metrics = {
      received: new Counter({ name: 'poller_messages_received_total', help: 'Messages received.', registers }),
      processed: new Counter({
        name: 'poller_messages_processed_total',
        help: 'Messages processed and deleted (refreshed, or skipped as duplicates).',
        registers,
      }),
      failed: new Counter({
        name: 'poller_messages_failed_total',
        help: 'Messages not processed (transient failure or poison), by kind.',
        labelNames: ['kind'],
        registers,
      }),
      deadLettered: new Counter({
        name: 'poller_messages_dead_lettered_total',
        help: 'Poison messages at their last receive: the queue moves them to the DLQ.',
        registers,
      }),
      duplicates: new Counter({
        name: 'poller_duplicates_skipped_total',
        help: 'Messages skipped because a refresh already answered them.',
        registers,
      }),
      refreshes: new Counter({
        name: 'poller_refreshes_total',
        help: 'RefreshStatus calls that succeeded, by whether they moved the call.',
        labelNames: ['changed'],
        registers,
      }),
      latency: new Histogram({
        name: 'poller_processing_latency_seconds',
        help: 'From a message being sent to its processing ending.',
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
        registers,
      }),
      lag: new Gauge({
        name: 'poller_queue_lag_seconds',
        help: 'Age of the oldest message of the latest receive.',
        registers,
      }),
      sweepDuration: new Histogram({
        name: 'poller_sweep_duration_seconds',
        help: 'Duration of completed stale-call sweeps.',
        buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300],
        registers,
      }),
    };
    const self = this;
    new Gauge({
      name: 'poller_sweep_backlog',
      help: 'Stale calls found by the current sweep and not yet enqueued.',
      registers,
      collect() {
        this.set(self.sweep().checkpoint.backlog);
      },
    });
    new Gauge({
      name: 'poller_sweep_leader',
      help: '1 when this replica holds the sweep lease.',
      registers,
      collect() {
        this.set(self.sweep().leader ? 1 : 0);
      },
    });
    new Gauge({
      name: 'poller_checkpoint_age_seconds',
      help: 'Seconds since the sweep checkpoint was saved; -1 when never.',
      registers,
      collect() {
        this.set(self.checkpointAgeSeconds());
      },
    });
  }

  onReceive(messages: ReceivedMessage[]): void {
    this.received += messages.length;
    this.metrics.received.inc(messages.length);
    const now = this.clock.now();
    const oldest = Math.min(...messages.map((m) => m.sentAt?.getTime() ?? now).filter(Number.isFinite), now);
    this.queueLagSeconds = Math.max(0, (now - oldest) / 1000);
    this.metrics.lag.set(this.queueLagSeconds);
  }

  onOutcome(message: ReceivedMessage, outcome: Outcome): void {
    if (outcome.kind === 'done' || outcome.kind === 'duplicate') {
      this.processed += 1;
      this.metrics.processed.inc();
      if (outcome.kind === 'duplicate') {
        this.duplicates += 1;
        this.metrics.duplicates.inc();
      }
      // A SentTimestamp that is not a number makes an Invalid Date: no latency (the histogram throws on NaN).
      if (message.sentAt && Number.isFinite(message.sentAt.getTime())) {
        const seconds = Math.max(0, (this.clock.now() - message.sentAt.getTime()) / 1000);
        this.latencySum += seconds;
        this.latencyCount += 1;
        this.metrics.latency.observe(seconds);
      }
      return;
    }
    this.failed += 1;
    this.metrics.failed.inc({ kind: outcome.kind });
    if (outcome.kind === 'poison' && message.receiveCount >= this.maxReceiveCount) {
      this.deadLettered += 1;
      this.metrics.deadLettered.inc();
    }
  }

  onRefreshed(changed: boolean): void {
    this.refreshed += 1;
    if (changed) this.transitions += 1;
    this.metrics.refreshes.inc({ changed: String(changed) });
  }

  onSweepComplete(durationMs: number): void {
    this.metrics.sweepDuration.observe(durationMs / 1000);
  }

  meanLatencySeconds(): number {
    return this.latencyCount ? this.latencySum / this.latencyCount : 0;
  }

  checkpointAgeSeconds(): number {
    const saved = this.sweep().checkpoint.savedAt;
    return saved ? Math.max(0, (this.clock.now() - saved.getTime()) / 1000) : -1;
  }
}
