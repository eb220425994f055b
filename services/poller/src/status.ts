import type { Readiness } from '@callgate/common';
import type { pollerV1 } from '@callgate/protos';
import type { QueueConsumer } from './consumer.js';
import type { PollerStats } from './stats.js';
import type { Sweeper } from './sweep.js';

/** GetStatus: the counters, the readiness checks and the sweep's checkpoint, read when asked. */
export function pollerStatus(p: {
  readiness: Readiness;
  stats: PollerStats;
  consumer: QueueConsumer;
  sweeper: Sweeper;
}): () => Promise<pollerV1.GetStatusResponse> {
  const { stats, consumer, sweeper } = p;
  return async () => {
    const report = await p.readiness.evaluate();
    const cp = sweeper.checkpoint;
    return {
      messagesReceived: stats.received,
      messagesProcessed: stats.processed,
      messagesFailed: stats.failed,
      messagesDeadLettered: stats.deadLettered,
      duplicatesSkipped: stats.duplicates,
      inFlight: consumer.inFlightCount,
      queueLagSeconds: stats.queueLagSeconds,
      processingLatencySeconds: stats.meanLatencySeconds(),
      checkpointAgeSeconds: stats.checkpointAgeSeconds(),
      ready: report.ready,
      checks: report.checks,
      sweep: {
        leader: sweeper.leader,
        lastSweepAt: cp.lastCompletedAt?.toISOString() ?? '',
        checkpointCursor: cp.cursor,
        checkpointAt: cp.savedAt?.toISOString() ?? '',
        backlog: cp.backlog,
        lastSweepDurationSeconds: (cp.lastDurationMs ?? 0) / 1000,
        enqueued: cp.enqueued,
      },
    };
  };
}
