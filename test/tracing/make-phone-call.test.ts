/**
 * One makePhoneCall (wait: completed) through the official MCP SDK client, traced end to end. Every
 * service runs in this process, so one in-memory exporter, configured before the system starts, sees
 * every span. The assertions are about the tree (which span is whose parent, by span ids), not about
 * how many spans there are: retries, polls and queries may vary, the shape may not.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { configureTracing, shutdownTracing } from '@callgate/common';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { eventually } from '../support/calls.js';
import { httpClient, tokenFor, wsClient } from '../support/system.js';
import { captureStdout, type LogCapture } from './log-capture.js';

const exporter = new InMemorySpanExporter();
let system: LocalSystem;
let logs: LogCapture;

before(async () => {
  // Before anything starts: the services' loggers bind to stdout when created, and their databases
  // get query spans only when tracing is on at start.
  logs = captureStdout();
  configureTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)], defaultService: 'test' });
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      // debug: every served gRPC call writes a line inside its span, which the log assertion reads.
      LOG_LEVEL: 'debug',
      SANDBOX_CALL_STEP_MS: '60',
      SANDBOX_TALK_MS: '200',
      // The status poll is enqueued without delay, so the poller handles it during the test.
      POLL_FIRST_DELAY_SECONDS: '0',
      POLL_WAIT_SECONDS: '1',
    },
  });
});

after(async () => {
  await system?.stop();
  await shutdownTracing();
  logs?.restore();
});

const serviceOf = (s: ReadableSpan) => String(s.resource.attributes['service.name']);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
const idOf = (s: ReadableSpan) => s.spanContext().spanId;

/** The trace as a tree: finds spans and checks ancestry by span ids. */
class Trace {
  readonly byId = new Map<string, ReadableSpan>();
  constructor(readonly spans: ReadableSpan[]) {
    for (const s of spans) this.byId.set(idOf(s), s);
  }

  all(predicate: (s: ReadableSpan) => boolean): ReadableSpan[] {
    return this.spans.filter(predicate);
  }

  one(what: string, predicate: (s: ReadableSpan) => boolean): ReadableSpan {
    const found = this.all(predicate);
    assert.ok(found.length > 0, `no span for ${what}; spans:\n${this.render()}`);
    return found[0] as ReadableSpan;
  }

  /** The direct child of parent matching predicate. */
  child(what: string, parent: ReadableSpan, predicate: (s: ReadableSpan) => boolean): ReadableSpan {
    return this.one(`${what} (child of ${parent.name})`, (s) => parentOf(s) === idOf(parent) && predicate(s));
  }

  isAncestor(ancestor: ReadableSpan, span: ReadableSpan): boolean {
    for (let p = parentOf(span); p; p = this.byId.get(p) && parentOf(this.byId.get(p) as ReadableSpan)) {
      if (p === idOf(ancestor)) return true;
    }
    return false;
  }

  render(): string {
    const lines: string[] = [];
    const walk = (parent: string | undefined, depth: number) => {
      for (const s of this.spans.filter((x) => parentOf(x) === parent)) {
        lines.push(`${'  '.repeat(depth)}${s.name} [${serviceOf(s)} ${SpanKind[s.kind]}]`);
        walk(idOf(s), depth + 1);
      }
    };
    const orphans = this.spans.filter((s) => parentOf(s) && !this.byId.has(parentOf(s) as string));
    walk(undefined, 0);
    for (const o of orphans) lines.push(`(parent not exported) ${o.name}`);
    return lines.join('\n');
  }
}

/** Sheets API request spans (in any trace) with a link into trace t. */
function sheetsRequestsLinkedTo(t: Trace): ReadableSpan[] {
  const traceId = t.spans[0]?.spanContext().traceId;
  return exporter
    .getFinishedSpans()
    .filter((s) => s.name.startsWith('sheets values.') && s.links.some((l) => l.context.traceId === traceId));
}

describe('tracing one makePhoneCall', () => {
  let client: Client;
  before(async () => {
    client = await httpClient(system, tokenFor(system, `traced-${randomUUID()}`));
  });
  after(async () => {
    await client?.close();
  });

  it('is one trace from the MCP request to the completing callback, the poll and the sheet', async () => {
    const result = await client.callTool(
      { name: 'makePhoneCall', arguments: { to: '+14155550001', task: 'confirm', wait: 'completed' } },
      CallToolResultSchema,
      { resetTimeoutOnProgress: true },
    );
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    const call = (result.structuredContent as { call: { callId: string; status: string } }).call;
    assert.equal(call.status, 'completed');

    const placeServer = (s: ReadableSpan) =>
      s.name === 'callgate.call.v1.CallService/PlaceCall' && s.kind === SpanKind.SERVER;
    // Spans end asynchronously (the poll, the sheet's writer): wait for the last pieces, bounded.
    const trace = await eventually(
      'the poll, the completing callback and the sheet write in the call trace',
      async () => {
        const placed = exporter.getFinishedSpans().find(placeServer);
        if (!placed) return undefined;
        const t = new Trace(
          exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === placed.spanContext().traceId),
        );
        const done =
          t.all((s) => s.name.endsWith(' process') && s.kind === SpanKind.CONSUMER).length > 0 &&
          t.all((s) => s.name === 'POST /twilio/status' && s.attributes['http.response.status_code'] === 200).length >=
            4 &&
          sheetsRequestsLinkedTo(t).length > 0 &&
          t.all((s) => s.name === 'POST /mcp').length > 0;
        return done ? t : undefined;
      },
      10_000,
      {
        intervalMs: 50,
        lastSeen: () => {
          const placed = exporter.getFinishedSpans().find(placeServer);
          const id = placed?.spanContext().traceId;
          return new Trace(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === id)).render();
        },
      },
    );

    // The root is the gateway's span for the MCP request; every other span of the trace descends from it.
    const roots = trace.all((s) => !parentOf(s));
    assert.equal(roots.length, 1, `one root:\n${trace.render()}`);
    const root = roots[0] as ReadableSpan;
    assert.equal(root.name, 'POST /mcp');
    assert.equal(root.kind, SpanKind.SERVER);
    assert.equal(serviceOf(root), 'gateway');
    for (const s of trace.spans) {
      if (s !== root) assert.ok(trace.isAncestor(root, s), `${s.name} descends from the MCP request span`);
    }

    // gateway → call: the client span in the gateway, the server span in the call service under it.
    const placeClient = trace.one(
      'the gateway calling PlaceCall',
      (s) => s.name === 'callgate.call.v1.CallService/PlaceCall' && s.kind === SpanKind.CLIENT,
    );
    assert.equal(serviceOf(placeClient), 'gateway');
    assert.ok(trace.isAncestor(root, placeClient));
    const place = trace.child('the call service serving PlaceCall', placeClient, placeServer);
    assert.equal(serviceOf(place), 'call');

    // call → user-credit: Reserve, client and server, and the ledger's queries under the server span.
    const reserveClient = trace.one(
      'the call service calling Reserve',
      (s) => s.name === 'callgate.credit.v1.CreditService/Reserve' && s.kind === SpanKind.CLIENT,
    );
    assert.ok(trace.isAncestor(place, reserveClient), 'Reserve is made while serving PlaceCall');
    assert.equal(serviceOf(reserveClient), 'call');
    const reserve = trace.child('user-credit serving Reserve', reserveClient, (s) => s.kind === SpanKind.SERVER);
    assert.equal(serviceOf(reserve), 'user-credit');
    const ledgerQueries = trace.all(
      (s) => s.attributes['db.system.name'] === 'postgresql' && trace.isAncestor(reserve, s),
    );
    assert.ok(
      ledgerQueries.some((q) => serviceOf(q) === 'user-credit' && typeof q.attributes['db.query.text'] === 'string'),
      'the ledger queries are spans of user-credit under Reserve',
    );
    assert.ok(
      ledgerQueries.length > 0 &&
        trace
          .all((s) => s.attributes['db.system.name'] === 'postgresql' && trace.isAncestor(place, s))
          .some((q) => serviceOf(q) === 'call'),
      'the call service queries its own schema while placing',
    );

    // The carrier: Twilio's create, a CLIENT span of the call service under PlaceCall.
    const create = trace.one('Twilio calls.create', (s) => s.name === 'twilio calls.create');
    assert.equal(create.kind, SpanKind.CLIENT);
    assert.equal(serviceOf(create), 'call');
    assert.ok(trace.isAncestor(place, create), 'the create is made while serving PlaceCall');
    assert.match(String(create.attributes['twilio.call_sid']), /^CA[0-9a-f]{32}$/i);

    // The status callbacks continue from the create span (its context rode in the StatusCallback URL);
    // the one that completes the call is among them.
    const callbacks = trace.all((s) => s.name === 'POST /twilio/status');
    assert.ok(callbacks.length >= 4, 'initiated, ringing, answered, completed');
    for (const cb of callbacks) {
      assert.equal(parentOf(cb), idOf(create), 'a callback is a child of the create that asked for it');
      assert.equal(serviceOf(cb), 'call');
      assert.equal(cb.kind, SpanKind.SERVER);
    }
    assert.ok(
      callbacks.some(
        (cb) => trace.all((q) => parentOf(q) === idOf(cb) && /^(UPDATE|INSERT|SELECT)$/.test(q.name)).length > 0,
      ),
      'a callback applies the status in the database, under its span',
    );

    // SQS: the enqueue in the call service, the poller's processing as its child, RefreshStatus under that.
    const send = trace.one('the status poll enqueued', (s) => s.kind === SpanKind.PRODUCER && s.name.endsWith(' send'));
    assert.equal(serviceOf(send), 'call');
    assert.ok(trace.isAncestor(place, send), 'the poll is enqueued while placing');
    const processed = trace.child('the poller processing the poll', send, (s) => s.kind === SpanKind.CONSUMER);
    assert.equal(serviceOf(processed), 'poller');
    const refreshClient = trace.child(
      'the poller calling RefreshStatus',
      processed,
      (s) => s.name === 'callgate.call.v1.CallService/RefreshStatus' && s.kind === SpanKind.CLIENT,
    );
    const refresh = trace.child(
      'the call service serving RefreshStatus',
      refreshClient,
      (s) => s.kind === SpanKind.SERVER,
    );
    assert.equal(serviceOf(refresh), 'call');

    // call → sheets-sync: the mirror RPC, served by sheets-sync, and a Sheets API request in the trace.
    // The call is mirrored at each change (placed, answered, ended…): one UpsertCallRow per change.
    const upsertClients = trace.all(
      (s) => s.name === 'callgate.sheets.v1.SheetsSyncService/UpsertCallRow' && s.kind === SpanKind.CLIENT,
    );
    assert.ok(upsertClients.length > 0, `the call service mirrors the call to the sheet:\n${trace.render()}`);
    for (const c of upsertClients) assert.equal(serviceOf(c), 'call');
    trace.child(
      'sheets-sync serving UpsertCallRow',
      upsertClients[0] as ReadableSpan,
      (s) => s.kind === SpanKind.SERVER,
    );
    const upserts = trace.all((s) => s.kind === SpanKind.SERVER && upsertClients.some((c) => parentOf(s) === idOf(c)));
    for (const u of upserts) assert.equal(serviceOf(u), 'sheets-sync');
    // The writer batches rows of many calls into one Sheets request, from its own loop: that request is
    // its own trace, linked to the UpsertCallRow calls whose rows arrived since the previous request.
    // Which of this call's upserts share a request depends on timing (a loaded machine batches more), so
    // each request must link to one of them, not to a particular one.
    const upsertIds = new Set(upserts.map(idOf));
    const sheetsRequests = sheetsRequestsLinkedTo(trace);
    assert.ok(sheetsRequests.length > 0, 'a Sheets API request links to this trace');
    for (const request of sheetsRequests) {
      assert.equal(request.kind, SpanKind.CLIENT);
      assert.equal(serviceOf(request), 'sheets-sync');
      assert.ok(
        request.links.some((l) => upsertIds.has(l.context.spanId)),
        `${request.name} links to an UpsertCallRow server span of this call`,
      );
    }

    // A failed span says so (status ERROR); this call went well, so none did.
    const failed = trace.all((s) => s.status.code === SpanStatusCode.ERROR);
    assert.deepEqual(
      failed.map((s) => s.name),
      [],
      'no span failed',
    );

    // Log lines carry the ids of the span they were written in: the call service's line for PlaceCall.
    const line = logs
      .lines()
      .find((l) => l.service === 'call' && l.rpc === 'PlaceCall' && l.msg === 'gRPC call served' && l.trace_id);
    assert.ok(line, 'the call service logged serving PlaceCall');
    assert.equal(line.trace_id, place.spanContext().traceId);
    assert.equal(line.span_id, idOf(place));
  });

  it('over WebSocket, each request is its own trace: the gateway span is the parent of its gRPC calls', async () => {
    const client = await wsClient(system, tokenFor(system, `trace-ws-${randomUUID()}`));
    try {
      exporter.reset();
      await client.callTool({ name: 'getCallHistory', arguments: {} });
      const root = await eventually(
        'the WebSocket request span',
        async () =>
          exporter
            .getFinishedSpans()
            .find((s) => s.name === 'MCP tools/call' && s.kind === SpanKind.SERVER && serviceOf(s) === 'gateway'),
        5000,
      );
      assert.equal(parentOf(root), undefined, 'a root: a new trace per request');
      const trace = new Trace(
        exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === root.spanContext().traceId),
      );
      const list = trace.one(
        'ListCalls from the gateway',
        (s) => s.name.endsWith('/ListCalls') && serviceOf(s) === 'gateway',
      );
      assert.ok(trace.isAncestor(root, list), 'the gRPC call is inside the request span');
    } finally {
      await client.close();
    }
  });
});
