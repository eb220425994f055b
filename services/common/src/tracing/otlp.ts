/**
 * Production set-up: spans are exported over OTLP/HTTP (to the ADOT collector, which forwards to AWS
 * X-Ray; or to Jaeger locally) only when OTEL_EXPORTER_OTLP_ENDPOINT is set. Unset, tracing is never
 * configured and every span helper is the API's no-op.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';
import { configureTracing, tracingEnabled } from './tracer.js';

export const tracingConfigShape = {
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ message: 'expected a URL' })
    .optional()
    .describe(
      'OTLP/HTTP collector base URL (spans go to <url>/v1/traces), e.g. http://localhost:4318. Unset: no tracing.',
    ),
  OTEL_TRACES_SAMPLE_RATIO: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(1)
    .describe(
      'Share of traces recorded (0 to 1), decided where a trace starts and followed by every service it reaches.',
    ),
};

export type TracingConfig = { OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined; OTEL_TRACES_SAMPLE_RATIO?: number };

/** Starts exporting when an endpoint is configured (once per process; later calls do nothing). Returns whether tracing is on. */
export function startTracing(config: TracingConfig, defaultService: string): boolean {
  if (tracingEnabled()) return true;
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return false;
  const url = `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  // Batches leave in the background; a collector that is down costs dropped spans, never a blocked request.
  const processor: SpanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url }));
  configureTracing({ spanProcessors: [processor], defaultService, sampleRatio: config.OTEL_TRACES_SAMPLE_RATIO });
  return true;
}
