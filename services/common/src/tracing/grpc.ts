/**
 * Spans for gRPC hops, at our own client and server helpers (auto-instrumentation cannot patch
 * @grpc/grpc-js when ESM imports it; see the README's tracing section). The client span's context
 * travels in the call's metadata as W3C `traceparent`/`tracestate`; the server continues from it.
 */
import { InterceptingCall, type Interceptor, type Metadata, status } from '@grpc/grpc-js';
import { type Context, context, INVALID_SPANID, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { contextFromHeaders, TRACE_FIELDS, traceHeaders } from './propagation.js';
import { tracer, withService } from './tracer.js';

/** "/callgate.call.v1.CallService/PlaceCall" → span name and rpc.* attributes (OTel RPC conventions). */
function rpcAttributes(path: string) {
  const [service = '', method = ''] = path.replace(/^\//, '').split('/');
  return {
    name: `${service}/${method}`,
    attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method },
  };
}

/**
 * Which codes mark a span failed. A server failed only on codes that say it did (the OTel RPC
 * conventions' list; NOT_FOUND or FAILED_PRECONDITION are answers, not faults). A client failed on any
 * other code but CANCELLED: a client sees CANCELLED only when it cancelled the call itself (the gateway
 * ends a WatchCall stream that way when the call it follows has ended).
 */
const SERVER_FAULTS = new Set([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

function endRpcSpan(span: Span, side: 'client' | 'server', code: status, message?: string): void {
  span.setAttribute('rpc.grpc.status_code', code);
  const failed = side === 'server' ? SERVER_FAULTS.has(code) : code !== status.OK && code !== status.CANCELLED;
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? status[code] });
  span.end();
}

/**
 * A CLIENT span per call, started in the caller's context (the interceptor runs synchronously where
 * the call is made), with its context written into the outgoing metadata.
 */
export const tracingInterceptor: Interceptor = (options, nextCall) => {
  const parent = context.active();
  const { name, attributes } = rpcAttributes(options.method_definition.path);
  const span = tracer(parent).startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
  return new InterceptingCall(nextCall(options), {
    start(metadata, _listener, next) {
      for (const [key, value] of Object.entries(traceHeaders(trace.setSpan(parent, span)))) metadata.set(key, value);
      next(metadata, {
        onReceiveStatus(s, nextStatus) {
          endRpcSpan(span, 'client', s.code, s.details);
          nextStatus(s);
        },
      });
    },
  });
};

/**
 * The context a served call runs in: its SERVER span (child of the caller's, when the metadata carries
 * one) active, and the service named. The span is ended by endServerCallSpan when the call is done.
 */
export function serverCallContext(service: string, path: string, metadata: Metadata): Context {
  const fields: Record<string, string | undefined> = {};
  for (const field of TRACE_FIELDS) {
    const value = metadata.get(field)[0];
    if (typeof value === 'string') fields[field] = value;
  }
  const parent = withService(contextFromHeaders(fields), service);
  const { name, attributes } = rpcAttributes(path);
  const span = tracer(parent).startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  return trace.setSpan(parent, span);
}

/** Ends the served call's span (the one active where the handler started) with its status. */
export function endServerCallSpan(span: Span | undefined, code: status, error?: unknown): void {
  if (!span || span.spanContext().spanId === INVALID_SPANID) return;
  if (error instanceof Error && SERVER_FAULTS.has(code) && span.isRecording()) span.recordException(error);
  endRpcSpan(span, 'server', code, error instanceof Error ? error.message : undefined);
}
