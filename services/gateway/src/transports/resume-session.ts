import type { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { AuthInfo, McpServer } from '@modelcontextprotocol/server';
import { webStandardTransport } from '../sdk-internals.js';

/** Where the replayed requests claim to come from; nothing is fetched from it. */
const LOCAL = 'http://callgate.invalid/mcp';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/**
 * Brings a new server and transport to where a session opened on another replica stands: the
 * client's own initialize and `notifications/initialized` are replayed into them, so the negotiated
 * revision, the client's capabilities and the session id are exactly what the client holds. The
 * replies go nowhere (the client had them from the first replica). The SDK's Node transport wraps a
 * Web-standard one, which takes a Fetch Request; the wrapped one is reached through sdk-internals.ts
 * because the wrapper takes only Node requests. False when the replay is refused (then the session is not found).
 */
export async function replayInitialize(
  transport: NodeStreamableHTTPServerTransport,
  server: McpServer,
  sessionId: string,
  initialize: unknown,
  auth: AuthInfo,
): Promise<boolean> {
  const web = webStandardTransport(transport);
  const opened = await web.handleRequest(
    new Request(LOCAL, { method: 'POST', headers: HEADERS, body: JSON.stringify(initialize) }),
    { authInfo: auth },
  );
  await opened.text();
  const version = server.server.getNegotiatedProtocolVersion();
  if (!opened.ok || transport.sessionId !== sessionId || !version) return false;
  const initialized = await web.handleRequest(
    new Request(LOCAL, {
      method: 'POST',
      headers: { ...HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': version },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    }),
    { authInfo: auth },
  );
  await initialized.text();
  return initialized.ok;
}
