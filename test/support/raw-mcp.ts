/** MCP as the simplest outside client speaks it: raw HTTP, no SDK, for tests that attack the gateway. */
import assert from 'node:assert/strict';
import type { LocalSystem } from '../../scripts/local-system.js';

export interface RawToolResult {
  structuredContent?: unknown;
  content?: { type: string; text?: string }[];
  isError?: boolean;
}

/** tools/call over a fresh 2025-11-25 session; the tool's result (refusals included). */
export async function callToolRaw(
  system: LocalSystem,
  token: string,
  name: string,
  args: Record<string, unknown>,
): Promise<RawToolResult> {
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const init = await fetch(system.mcpUrl, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  await init.text();
  const session = {
    ...headers,
    'mcp-session-id': init.headers.get('mcp-session-id') ?? '',
    'mcp-protocol-version': '2025-11-25',
  };
  await (
    await fetch(system.mcpUrl, {
      method: 'POST',
      headers: session,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    })
  ).text();
  const res = await fetch(system.mcpUrl, {
    method: 'POST',
    headers: session,
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } }),
  });
  const text = await res.text();
  // An event stream opens with an empty priming event; the answer is the last data line.
  const line = text
    .split('\n')
    .filter((l) => l.startsWith('data:') && l.slice(5).trim())
    .at(-1);
  const message = JSON.parse(line ? line.slice(5) : text) as { result?: RawToolResult };
  assert.ok(message.result, text);
  return message.result;
}
