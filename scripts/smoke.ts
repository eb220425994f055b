/**
 * `npm run smoke [-- --url http://127.0.0.1:8080/mcp --token T]`: checks a running system the way a
 * user would: the official SDK client over Streamable HTTP and over WebSocket lists the tools and calls
 * getVoiceOptions; every service answers SERVING on gRPC health; gRPC counters moved in /metrics.
 * Without flags it checks the system `npm start` runs (found through DATA_DIR/local-system.json, in
 * either port mode; else the documented ports), with a token minted with its key.
 */
import { parseArgs } from 'node:util';
import { checkServing } from '@callgate/common';
import { mintToken, USER_SCOPES } from '@callgate/gateway';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { localDataDir, readDiscovery } from './local-discovery.js';
import { localJwtSecret } from './local-system.js';
import { WsClientTransport } from './ws-client-transport.js';

const { values: flags } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    grpc: { type: 'string' },
    metrics: { type: 'string' },
  },
});
const dataDir = localDataDir();
const running = readDiscovery(dataDir);
const values = {
  url: flags.url ?? running?.mcpUrl ?? 'http://127.0.0.1:8080/mcp',
  grpc:
    flags.grpc ??
    (running
      ? Object.entries(running.grpc)
          .map(([name, address]) => `${name}=${address}`)
          .join(',')
      : 'gateway=50050,call=50051,user-credit=50052,sheets-sync=50053,poller=50054'),
  metrics: flags.metrics ?? running?.metrics.call ?? 'http://127.0.0.1:9102/metrics',
};
process.stdout.write(
  running
    ? `checking the system npm start runs (pid ${running.pid}, ${values.url})\n`
    : `no running npm start found in ${dataDir}: checking ${values.url}\n`,
);
const token =
  flags.token ??
  mintToken(
    {
      secret: localJwtSecret(process.env, dataDir),
      issuer: running?.jwt.issuer ?? process.env.JWT_ISSUER ?? 'callgate-local',
      audience: running?.jwt.audience ?? process.env.JWT_AUDIENCE ?? 'callgate',
    },
    { sub: 'smoke-test', scope: USER_SCOPES },
    300,
  );
let failures = 0;
const check = async (what: string, fn: () => Promise<string>) => {
  try {
    process.stdout.write(`ok    ${what}: ${await fn()}\n`);
  } catch (error) {
    failures++;
    process.stdout.write(`FAIL  ${what}: ${error instanceof Error ? error.message : String(error)}\n`);
  }
};

const transports: [string, () => Transport][] = [
  [
    'Streamable HTTP',
    () =>
      new StreamableHTTPClientTransport(new URL(values.url), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
  ],
  ['WebSocket', () => new WsClientTransport(values.url.replace(/^http/, 'ws'), { Authorization: `Bearer ${token}` })],
];
for (const [name, transport] of transports) {
  await check(`MCP over ${name}`, async () => {
    const client = new Client({ name: 'callgate-smoke', version: '1.0.0' });
    await client.connect(transport());
    try {
      const { tools } = await client.listTools();
      const result = await client.callTool({ name: 'getVoiceOptions', arguments: {} });
      const voices = (result.structuredContent as { voices?: unknown[] } | undefined)?.voices;
      if (result.isError || !voices?.length)
        throw new Error(`getVoiceOptions failed: ${JSON.stringify(result.content)}`);
      return `${tools.length} tools, getVoiceOptions returned ${voices.length} voices`;
    } finally {
      await client.close();
    }
  });
}
await check('a sandbox call through MCP', async () => {
  const client = new Client({ name: 'callgate-smoke', version: '1.0.0' });
  await client.connect(transports[0]?.[1]() as Transport);
  try {
    // The sandbox's busy number: the call rings and ends in seconds, and its hold is released.
    const result = await client.callTool(
      { name: 'makePhoneCall', arguments: { to: '+14155550002', task: 'smoke test', wait: 'completed' } },
      undefined,
      { timeout: 60_000 },
    );
    const call = (result.structuredContent as { call?: { status: string; timeline: unknown[] } } | undefined)?.call;
    if (result.isError || call?.status !== 'busy') {
      throw new Error(`makePhoneCall did not end busy: ${JSON.stringify(result.content).slice(0, 300)}`);
    }
    return `makePhoneCall ended ${call.status} after ${call.timeline.length} events`;
  } finally {
    await client.close();
  }
});
for (const entry of values.grpc.split(',')) {
  const [name, port] = entry.split('=');
  await check(`gRPC health of ${name}`, async () => {
    await checkServing(port?.includes(':') ? port : `127.0.0.1:${port}`);
    return 'SERVING';
  });
}
await check('call service counted GetVoiceOptions', async () => {
  const text = await (await fetch(values.metrics)).text();
  const match = /grpc_server_handled_total\{[^}]*grpc_method="GetVoiceOptions",grpc_code="OK"[^}]*\} (\d+)/.exec(text);
  // The gateway caches the catalogue: repeated identical reads reach the call service once.
  if (!match || Number(match[1]) < 1) throw new Error(`counter not found or zero in ${values.metrics}`);
  return `grpc_server_handled_total = ${match[1]}`;
});
process.exit(failures ? 1 : 0);
