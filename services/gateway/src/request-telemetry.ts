import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptRequestId, inHttpServerSpan, type Logger, REQUEST_ID_HEADER, withRequestId } from '@callgate/common';
import { Counter, type Registry } from 'prom-client';
import { MCP_PATH } from './protected-resource.js';
import { routeOf } from './public-routes.js';
import { sendJsonRpcError } from './transports/http-body.js';

/**
 * The request listener of the public port around `handle`: each request gets an id, MCP requests a
 * trace and a log line, every request a count by route and status, and a handler that throws a 500
 * (logged inside the span, so the line names the trace) instead of a hung request.
 */
export function withRequestTelemetry(
  registry: Registry,
  log: Logger,
  handle: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>,
): (req: IncomingMessage, res: ServerResponse) => void {
  const requests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'Requests to the public HTTP port, by route and status.',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = routeOf(path);
    // One id per request, the caller's X-Request-Id if it is plain: returned, logged here and by every
    // service the request reaches (gRPC metadata), so one id finds the request's whole story.
    const requestId = acceptRequestId(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const started = performance.now();
    // Each MCP request starts a trace (a client's traceparent is not trusted: this port is public).
    const traced = <T>(fn: () => T): T =>
      route === 'mcp' ? inHttpServerSpan(req, res, { service: 'gateway', route: MCP_PATH }, fn) : fn();
    withRequestId(requestId, () => {
      res.once('finish', () => {
        requests.inc({ route, status: String(res.statusCode) });
        if (route === 'mcp') {
          const ms = Math.round(performance.now() - started);
          // Named explicitly: 'finish' may be emitted outside the request's async context.
          log.info({ requestId, method: req.method, status: res.statusCode, ms }, 'mcp request');
        }
      });
      traced(() =>
        handle(req, res, path).catch((error: unknown) => {
          log.error({ err: error }, 'request failed'); // inside the span: the line names the trace
          sendJsonRpcError(res, 500, -32603, 'Internal error');
        }),
      );
    });
  };
}
