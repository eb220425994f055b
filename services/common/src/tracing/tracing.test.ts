/**
 * The tracing seams on their own: log lines name the active span, context survives the SQS attribute
 * round trip, database statements are spans only inside a span, gRPC codes mark spans failed as the
 * conventions say. The whole tree of a call is test/tracing/make-phone-call.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Database, Queryable } from '../db/database.js';
import { createLogger } from '../logger.js';
import { withQuerySpans } from './database.js';
import { endServerCallSpan, serverCallContext } from './grpc.js';
import { LinkCollector } from './links.js';
import { contextFromHeaders, traceHeaders } from './propagation.js';
import { inSpan } from './spans.js';
import { contextFromAttributes, withTraceAttributes } from './sqs.js';
import { configureTracing, shutdownTracing } from './tracer.js';

const exporter = new InMemorySpanExporter();
before(() => configureTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)], defaultService: 'unit' }));
after(() => shutdownTracing());

const finished = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

describe('tracing seams', () => {
  it('writes the active span’s ids on every log line, and none outside a span', async () => {
    const raw: string[] = [];
    const log = createLogger('test', 'info', { write: (line: string) => void raw.push(line) });
    log.info('before');
    const ids = await inSpan('work', {}, async (span) => {
      log.info('inside');
      return span.spanContext();
    });
    const [outside, inside] = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(outside?.trace_id, undefined);
    assert.equal(inside?.trace_id, ids.traceId);
    assert.equal(inside?.span_id, ids.spanId);
  });

  it('carries the trace through SQS message attributes and a W3C header round trip', async () => {
    await inSpan('send', { kind: SpanKind.PRODUCER }, async (span) => {
      const attributes = withTraceAttributes({ kept: { DataType: 'String', StringValue: 'x' } });
      assert.equal(attributes?.kept?.StringValue, 'x', 'other attributes are kept');
      assert.match(String(attributes?.traceparent?.StringValue), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const received = trace.getSpanContext(contextFromAttributes(attributes, context.active()));
      assert.equal(received?.traceId, span.spanContext().traceId);
      assert.equal(received?.spanId, span.spanContext().spanId);
      assert.equal(received?.isRemote, true);
    });
    assert.deepEqual(traceHeaders(), {}, 'nothing to propagate outside a span');
    assert.equal(withTraceAttributes(), undefined, 'an untraced message has no attributes map at all');
    const malformed = contextFromHeaders({ traceparent: 'not-a-traceparent' });
    assert.equal(trace.getSpanContext(malformed), undefined, 'a malformed header starts nothing');
  });

  it('makes a span per statement only inside a span, with the statement text', async () => {
    // The wrapper is what is tested: a stand-in database answers, and remembers what it was asked.
    const asked: string[] = [];
    const queryable: Queryable = {
      query: async <R>(sql: string) => {
        asked.push(sql);
        return { rows: [] as R[], rowCount: 0 };
      },
      exec: async (sql) => void asked.push(sql),
    };
    const inner: Database = {
      ...queryable,
      kind: 'pglite',
      transaction: (fn) => fn(queryable),
      listen: async () => async () => undefined,
      notify: async () => undefined,
      close: async () => undefined,
    };
    const db = withQuerySpans(inner);
    exporter.reset();
    await db.query('SELECT 1 AS untraced');
    assert.equal(exporter.getFinishedSpans().length, 0, 'a background statement is not a root trace');
    await inSpan('request', {}, async () => {
      await db.query('SELECT $1::int AS n', [2]);
      await db.transaction(async (tx) => {
        await tx.query('SELECT 3');
      });
    });
    const [request] = finished('request');
    const selects = finished('SELECT');
    assert.equal(selects.length, 2);
    const [transaction] = finished('transaction');
    assert.equal(selects[0]?.parentSpanContext?.spanId, request?.spanContext().spanId);
    assert.equal(selects[0]?.attributes['db.query.text'], 'SELECT $1::int AS n');
    assert.equal(selects[1]?.parentSpanContext?.spanId, transaction?.spanContext().spanId);
    assert.equal(selects[0]?.kind, SpanKind.CLIENT);
    assert.deepEqual(asked, ['SELECT 1 AS untraced', 'SELECT $1::int AS n', 'SELECT 3'], 'every statement still runs');
  });

  it('continues the caller’s trace on the server and marks only server faults failed', () => {
    exporter.reset();
    const caller = inSpanSync('caller');
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(traceHeaders(trace.setSpan(context.active(), caller)))) metadata.set(k, v);
    const served = (code: status) => {
      const ctx = serverCallContext('svc', '/pkg.Service/Method', metadata);
      endServerCallSpan(trace.getSpan(ctx), code, new Error('why'));
      return exporter.getFinishedSpans().at(-1);
    };
    const ok = served(status.NOT_FOUND);
    assert.equal(ok?.name, 'pkg.Service/Method');
    assert.equal(ok?.parentSpanContext?.spanId, caller.spanContext().spanId);
    assert.equal(ok?.resource.attributes['service.name'], 'svc');
    assert.equal(ok?.status.code, SpanStatusCode.UNSET, 'NOT_FOUND is an answer, not a fault');
    assert.equal(served(status.INTERNAL)?.status.code, SpanStatusCode.ERROR);
  });

  it('links a batch to the spans that fed it, bounded', async () => {
    const links = new LinkCollector(2);
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      await inSpan(name, {}, async (span) => {
        ids.push(span.spanContext().spanId);
        links.record();
      });
    }
    links.record(); // outside a span: nothing
    assert.deepEqual(
      links.take().map((l) => l.context.spanId),
      ids.slice(1),
      'the oldest is dropped past the bound',
    );
    assert.deepEqual(links.take(), []);
  });
});

function inSpanSync(name: string) {
  const span = trace.getTracer('unit').startSpan(name);
  span.end();
  return span;
}
