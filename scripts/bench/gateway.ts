/**
 * `npm run bench -- gateway`: a trivial MCP tools/call (getVoiceOptions) over Streamable HTTP with a
 * session, 50 connections, after a warm-up, against: a bare node:http ceiling, the official SDK v1 and
 * v2 servers answering the same tool from memory, and callgate's gateway, whose answer takes a gRPC hop
 * to the call service. Every response is checked. Figures are ratios to the bare server of the same run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mintToken } from '@callgate/gateway';
import autocannon from 'autocannon';
import { rssMb, type ServerProcess, startProcess, startService } from './processes.js';

interface Target {
  name: string;
  /** Starts the server(s); resolves with the URL to load, an optional bearer token, and the processes to stop. */
  start: () => Promise<{ url: string; token?: string; processes: ServerProcess[] }>;
  /** Whether it speaks MCP (needs a session) or is the fixed-body ceiling. */
  mcp: boolean;
}

const fixture = (entry: string) => async () => {
  const p = await startProcess(entry, /^READY /);
  return { url: (p.output.find((l) => l.startsWith('READY ')) ?? '').slice(6), processes: [p] };
};

/** The production layout: the call service and the gateway each in its own process, talking gRPC. */
async function callgate() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'callgate-bench-'));
  const call = await startService('call', { GRPC_PORT: '0', METRICS_PORT: '0', DATA_DIR: dataDir });
  const secret = randomBytes(32).toString('base64url');
  const gateway = await startService('gateway', {
    HTTP_PORT: '0',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    CALL_SERVICE_ADDR: `127.0.0.1:${call.started.grpcPort}`,
    JWT_SECRET: secret,
    // One user drives the whole load: rate limits would measure the limiter, not the gateway.
    RATE_LIMIT_BURST: '1000000000',
    RATE_LIMIT_PER_MINUTE: '1000000000',
  }).catch(async (error: unknown) => {
    await call.process.stop();
    throw error;
  });
  const token = mintToken({ secret, issuer: 'callgate-local', audience: 'callgate' }, { sub: 'bench' });
  return { url: gateway.started.endpoints.mcp ?? '', token, processes: [gateway.process, call.process] };
}

const TARGETS: Target[] = [
  { name: 'bare node:http (ceiling)', start: fixture('scripts/bench/fixtures/bare-http.ts'), mcp: false },
  { name: 'SDK v1, stateful, no gRPC', start: fixture('scripts/bench/fixtures/sdk-v1.ts'), mcp: true },
  { name: 'SDK v2, stateful, no gRPC', start: fixture('scripts/bench/fixtures/sdk-v2.ts'), mcp: true },
  { name: 'callgate gateway + call service (2 processes)', start: callgate, mcp: true },
];

const PROTOCOL = '2025-11-25';

async function openSession(url: string, headers: Record<string, string>): Promise<Record<string, string>> {
  const base = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers };
  const init = await fetch(url, {
    method: 'POST',
    headers: base,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
    }),
  });
  await init.text();
  const session = init.headers.get('mcp-session-id');
  if (!init.ok || !session) throw new Error(`initialize failed: HTTP ${init.status}`);
  const sessionHeaders = { ...base, 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL };
  await (
    await fetch(url, {
      method: 'POST',
      headers: sessionHeaders,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    })
  ).text();
  return sessionHeaders;
}

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  rssMb: number;
}

async function measure(target: Target, seconds: number, connections: number): Promise<Result> {
  const { url, token, processes } = await target.start();
  try {
    let headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target.mcp) headers = await openSession(url, token ? { authorization: `Bearer ${token}` } : {});
    // Each request gets its own JSON-RPC id: ids are unique within a session, and servers key in-flight work by them.
    let nextId = 1;
    const body = () =>
      JSON.stringify({
        jsonrpc: '2.0',
        id: nextId++,
        method: 'tools/call',
        params: { name: 'getVoiceOptions', arguments: { language: 'en' } },
      });
    let bad = 0;
    const run = (duration: number) =>
      autocannon({
        url,
        method: 'POST',
        headers,
        connections,
        duration,
        requests: [
          {
            setupRequest: (request) => ({ ...request, body: body() }),
            onResponse: (status: number, responseBody: string) => {
              if (status !== 200 || !responseBody.includes('voices') || responseBody.includes('"isError":true')) bad++;
            },
          },
        ],
      });
    await run(3);
    bad = 0;
    const r = await run(seconds);
    return {
      name: target.name,
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: bad + r.errors + r.non2xx + r.timeouts,
      rssMb: await rssMb(processes[0]?.child.pid),
    };
  } finally {
    for (const p of processes) await p.stop();
  }
}

export async function benchGateway(options: { seconds: number; connections: number; runs: number }): Promise<void> {
  for (let run = 1; run <= options.runs; run++) {
    const results: Result[] = [];
    for (const target of TARGETS) results.push(await measure(target, options.seconds, options.connections));
    const ceiling = results[0]?.rps ?? 1;
    process.stdout.write(
      [
        `\nrun ${run}/${options.runs}: tools/call getVoiceOptions, ${options.connections} connections, ${options.seconds} s after 3 s warm-up`,
        '| server | req/s | p50 ms | p99 ms | errors | ÷ bare | RSS MB (gateway) |',
        '| --- | --- | --- | --- | --- | --- | --- |',
        ...results.map(
          (r) =>
            `| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${(r.rps / ceiling).toFixed(2)} | ${r.rssMb.toFixed(0)} |`,
        ),
        '',
      ].join('\n'),
    );
  }
}
