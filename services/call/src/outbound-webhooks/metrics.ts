import { Counter, Histogram, type Registry } from 'prom-client';

export type DeliveryOutcome = 'delivered' | 'failed' | 'dead_lettered' | 'canceled';

export interface WebhookMetrics {
  outcome(outcome: DeliveryOutcome): void;
  duration(seconds: number): void;
}

/**
 * webhook_deliveries_total{outcome}: each attempt's outcome (failed: will be retried; dead_lettered:
 * given up); webhook_delivery_duration_seconds: how long receivers take. The DLQ depth is sampled
 * separately (webhook_dlq_depth, index.ts) because the queue outlives the process's counters.
 */
export function webhookMetrics(registry: Registry): WebhookMetrics {
  const outcomes = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: delivered, failed (retried later), dead_lettered (given up), canceled (endpoint deleted).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['delivered', 'failed', 'dead_lettered', 'canceled'] as const) outcomes.inc({ outcome }, 0);
  const durations = new Histogram({
    name: 'webhook_delivery_duration_seconds',
    help: 'Time one webhook delivery attempt took, up to its timeout.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    outcome: (outcome) => outcomes.inc({ outcome }),
    duration: (seconds) => durations.observe(seconds),
  };
}
