/** The whole local system on ephemeral ports, and MCP clients for it, for end-to-end tests. */
import { CONSENTABLE_SCOPES, mintToken } from '@callgate/gateway';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { WsClientTransport } from '../../scripts/ws-client-transport.js';

export async function startTestSystem(): Promise<LocalSystem> {
  return startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' },
  });
}

/** A token with every scope a person may consent to (apps:manage included), as the console holds. */
export function tokenFor(system: LocalSystem, sub: string, expiresInSeconds = 600): string {
  return mintToken(system.jwt, { sub, scope: CONSENTABLE_SCOPES.join(' ') }, expiresInSeconds);
}

export async function httpClient(system: LocalSystem, token: string): Promise<Client> {
  const client = new Client({ name: 'callgate-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(system.mcpUrl), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

export async function wsClient(system: LocalSystem, token: string): Promise<Client> {
  const client = new Client({ name: 'callgate-test', version: '1.0.0' });
  await client.connect(
    new WsClientTransport(system.mcpUrl.replace('http://', 'ws://'), { Authorization: `Bearer ${token}` }),
  );
  return client;
}
