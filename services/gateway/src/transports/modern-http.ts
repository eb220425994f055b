import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@callgate/common';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  type AuthInfo,
  createMcpHandler,
  InMemoryServerEventBus,
  isLegacyRequest,
  type McpServer,
  type ServerEventBus,
} from '@modelcontextprotocol/server';

/**
 * The 2026-07-28 revision over HTTP: stateless, each request carries its protocol version and client
 * identity in `_meta`, so any replica serves it. The SDK's per-request entry does the protocol work
 * (server/discover, header checks, subscriptions/listen over SSE); requests of older revisions stay on
 * the session transport. The event bus carries notifications (resource updates) to listen streams.
 */
export function createModernHttpHandler(options: {
  newServer: () => McpServer;
  maxBodyBytes: number;
  log: Logger;
  bus?: ServerEventBus;
}) {
  const bus = options.bus ?? new InMemoryServerEventBus((error) => options.log.warn({ err: error }, 'event bus'));
  const handler = createMcpHandler(() => options.newServer(), {
    legacy: 'reject',
    bus,
    maxRequestBodySize: options.maxBodyBytes,
    onerror: (error) => options.log.debug({ err: error }, 'MCP 2026-07-28 request refused or failed'),
  });
  const node = toNodeHandler(handler, {
    maxRequestBodySize: options.maxBodyBytes,
    onerror: (error) => options.log.warn({ err: error }, 'MCP 2026-07-28 adapter failed'),
  });
  return {
    bus,
    /** Publishes notifications (resource updates) to 2026-07-28 listen streams. */
    notify: handler.notify,
    /** Whether a parsed POST body (and its headers) belongs to the 2025 era with sessions. */
    isLegacy: (req: IncomingMessage, body: unknown) =>
      isLegacyRequest(
        new Request('http://gateway/mcp', {
          method: 'POST',
          headers: Object.entries(req.headers).flatMap(([k, v]) =>
            v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((one) => [k, one] as [string, string]),
          ),
        }),
        body,
        { maxRequestBodySize: options.maxBodyBytes },
      ),
    serve: (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: unknown) => node(req, res, body),
    close: () => handler.close(),
  };
}
