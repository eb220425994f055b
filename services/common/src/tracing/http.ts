/**
 * A SERVER span per incoming HTTP request at our own servers (the gateway's /mcp, the call service's
 * Twilio webhooks): active while the request is handled, ended when the response finishes (an MCP
 * response may be an SSE stream that lasts until the call completes).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Context, context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { tracer, withService } from './tracer.js';

export interface HttpSpanOptions {
  service: string;
  /** Low-cardinality route, e.g. "/mcp": the span is named "POST /mcp". */
  route: string;
  /** The remote parent, when the request carries one; default none (a new trace). */
  parent?: Context;
}

export function inHttpServerSpan<T>(
  req: IncomingMessage,
  res: ServerResponse,
  options: HttpSpanOptions,
  fn: () => T,
): T {
  const parent = withService(options.parent ?? trace.deleteSpan(context.active()), options.service);
  const method = req.method ?? 'GET';
  const span = tracer(parent).startSpan(
    `${method} ${options.route}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': method, 'http.route': options.route, 'url.path': options.route },
    },
    parent,
  );
  const end = () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  // 'close' covers a client that leaves before the response finished.
  res.once('finish', end);
  res.once('close', () => {
    if (!res.writableFinished) end();
  });
  return context.with(trace.setSpan(parent, span), fn);
}

/** A request-scoped SERVER span that ends when its answer goes out (`end`), not when `fn` returns. */
export interface MessageSpan {
  end(failed: boolean): void;
}

/**
 * A SERVER span per JSON-RPC request arriving on a long-lived connection (MCP over WebSocket): active
 * while the request is dispatched, so everything it causes (gRPC calls, queries) is its child; ended by
 * the caller when the response is sent or the connection closes.
 */
export function inMessageSpan(service: string, method: string, fn: () => void): MessageSpan {
  const parent = withService(trace.deleteSpan(context.active()), service);
  const span = tracer(parent).startSpan(
    `MCP ${method}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'rpc.system': 'jsonrpc', 'rpc.method': method, 'network.transport': 'websocket' },
    },
    parent,
  );
  context.with(trace.setSpan(parent, span), fn);
  return {
    end: (failed) => {
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}
