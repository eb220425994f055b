/**
 * OTEL_TRACES_SAMPLE_RATIO: a trace is kept or dropped where it starts, and every service it reaches
 * follows that decision (a dropped root records nothing; a kept upstream trace is recorded downstream).
 * Its own process (node:test runs each file apart), since tracing is configured once per process.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { inSpan } from './spans.js';
import { configureTracing } from './tracer.js';

describe('trace sampling', () => {
  const exporter = new InMemorySpanExporter();
  configureTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)], defaultService: 'test', sampleRatio: 0 });

  it('records no root trace at ratio 0', async () => {
    await inSpan('root', {}, async () => {
      await inSpan('child', {}, async () => undefined);
    });
    assert.equal(exporter.getFinishedSpans().length, 0);
  });

  it('still records the spans of a trace an upstream service kept', async () => {
    const upstream = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    await context.with(upstream, () => inSpan('downstream', {}, async () => undefined));
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(
      spans.map((s) => [s.name, s.spanContext().traceId]),
      [['downstream', '0af7651916cd43dd8448eb211c80319c']],
    );
  });
});
