/**
 * `npm run bench -- gateway`: MCP tools/call getCallDetails through callgate's gateway, over Streamable HTTP
 * (a 2025-11-25 session, autocannon) and over WebSocket (a closed-loop generator, one request in flight per
 * connection), 50 connections each, after a warm-up. Beside it, in the same run: a bare node:http server and
 * a bare `ws` server answering a fixed JSON-RPC body of the same size (the ceilings), and the official SDK
 * v1 and v2 servers answering a tool from memory (what an MCP server built the usual way reaches). callgate
 * runs in the production layout: gateway, call, user-credit and the sandbox carrier each in its own
 * process, talking gRPC; its answer takes a gRPC hop and a database read. Every response is checked.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mintToken, USER_SCOPES } from '@callgate/gateway';
import { SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN } from '@callgate/sandbox';
import autocannon from 'autocannon';
import { rssMb, type ServerProcess, startProcess, startService, totalCpuMs } from './processes.js';
import { wsLoad } from './ws-load.js';

interface Started {
  url: string;
  token?: string;
  processes: ServerProcess[];
  /** The tools/call to load, and how to recognise a good answer. */
  tool: { name: string; arguments: Record<string, unknown>; expect: string };
}

interface Target {
  name: string;
  transport: 'http' | 'websocket';
  /** Speaks MCP (needs a session or handshake) or is a fixed-body ceiling. */
  mcp: boolean;
  start: (bodyBytes: number) => Promise<Started>;
}

const VOICES = { name: 'getVoiceOptions', arguments: { language: 'en' }, expect: 'voices' };

const fixture =
  (entry: string, tool = VOICES) =>
  async (bodyBytes: number): Promise<Started> => {
    const p = await startProcess(entry, /^READY /, { BODY_BYTES: String(bodyBytes) });
    return { url: (p.output.find((l) => l.startsWith('READY ')) ?? '').slice(6), processes: [p], tool };
  };

/** The production layout, with one finished call whose details every request reads. */
export async function callgate(): Promise<Started> {
  const processes: ServerProcess[] = [];
  try {
    const dataDir = (name: string) => mkdtempSync(path.join(tmpdir(), `callgate-bench-${name}-`));
    const database = (name: string): Record<string, string> =>
      process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : { DATA_DIR: dataDir(name) };
    const sandbox = await startService('sandbox', { SANDBOX_PORT: '0', SANDBOX_CALL_STEP_MS: '20' });
    processes.push(sandbox.process);
    const credit = await startService('user-credit', { GRPC_PORT: '0', METRICS_PORT: '0', ...database('credit') });
    processes.push(credit.process);
    const call = await startService('call', {
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      WEBHOOK_PORT: '0',
      ...database('call'),
      CREDIT_SERVICE_ADDR: `127.0.0.1:${credit.started.grpcPort}`,
      TWILIO_ACCOUNT_SID: SANDBOX_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: SANDBOX_AUTH_TOKEN,
      // The sandbox logs its HTTP port as `port`.
      TWILIO_API_BASE_URL: `http://127.0.0.1:${(sandbox.started as unknown as { port: number }).port}`,
      // No queue in this layout: the safety-net poll is not under measurement (its failure is only counted).
      SQS_QUEUE_URL: 'http://127.0.0.1:9/000000000000/bench',
    });
    processes.push(call.process);
    const secret = randomBytes(32).toString('base64url');
    const gateway = await startService('gateway', {
      HTTP_PORT: '0',
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      CALL_SERVICE_ADDR: `127.0.0.1:${call.started.grpcPort}`,
      CREDIT_SERVICE_ADDR: `127.0.0.1:${credit.started.grpcPort}`,
      JWT_SECRET: secret,
      // One user drives the whole load: rate limits would measure the limiter, not the gateway.
      RATE_LIMIT_BURST: '1000000000',
      RATE_LIMIT_PER_MINUTE: '1000000000',
      // …and so would the per-user session cap (each WebSocket connection is a session).
      MCP_MAX_SESSIONS_PER_USER: '1000',
      // …and the per-user WebSocket cap (16 by default), which refused the 17th of the 50 connections.
      MCP_MAX_WEBSOCKETS_PER_USER: '1000',
    });
    processes.unshift(gateway.process);
    const url = gateway.started.endpoints.mcp ?? '';
    const token = mintToken(
      { secret, issuer: 'callgate-local', audience: 'callgate' },
      { sub: `bench-${Date.now()}`, scope: USER_SCOPES },
    );
    const headers = await openSession(url, { authorization: `Bearer ${token}` });
    const placed = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'makePhoneCall', arguments: { to: '+14155550002', task: 'bench', wait: 'completed' } },
      }),
    });
    const answer = await placed.text();
    const callId = /"callId":"([0-9a-f-]{36})"/.exec(answer)?.[1];
    if (!callId) throw new Error(`could not place the call the benchmark reads: ${answer.slice(0, 500)}`);
    return { url, token, processes, tool: { name: 'getCallDetails', arguments: { callId }, expect: callId } };
  } catch (error) {
    for (const p of processes) await p.stop();
    throw error;
  }
}

const TARGETS: Target[] = [
  {
    name: 'bare node:http (ceiling)',
    transport: 'http',
    mcp: false,
    start: fixture('scripts/bench/fixtures/bare-http.ts'),
  },
  {
    name: 'bare ws (ceiling)',
    transport: 'websocket',
    mcp: false,
    start: fixture('scripts/bench/fixtures/bare-ws.ts'),
  },
  {
    name: 'SDK v1, stateful, no gRPC',
    transport: 'http',
    mcp: true,
    start: fixture('scripts/bench/fixtures/sdk-v1.ts'),
  },
  {
    name: 'SDK v2, stateful, no gRPC',
    transport: 'http',
    mcp: true,
    start: fixture('scripts/bench/fixtures/sdk-v2.ts'),
  },
  { name: 'callgate gateway, HTTP (4 processes)', transport: 'http', mcp: true, start: callgate },
  { name: 'callgate gateway, WebSocket (4 processes)', transport: 'websocket', mcp: true, start: callgate },
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
  transport: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  rssMb: number;
  /** CPU ms of every server process of the target per answered request (load moves it less than req/s). */
  cpuUsPerRequest: number;
}

async function measure(target: Target, seconds: number, connections: number, bodyBytes: number): Promise<Result> {
  const started = await target.start(bodyBytes);
  const { url, token, processes, tool } = started;
  try {
    const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const call = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: tool.name, arguments: tool.arguments },
    });
    const good = (answer: string) =>
      !target.mcp || (answer.includes(tool.expect) && !answer.includes('"isError":true'));
    if (target.transport === 'websocket') {
      const wsUrl = url.replace(/^http/, 'ws');
      const handshake = (id: number) =>
        target.mcp
          ? [
              {
                jsonrpc: '2.0',
                id,
                method: 'initialize',
                params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
              },
              { jsonrpc: '2.0', method: 'notifications/initialized' },
            ]
          : [];
      const load = (s: number) =>
        wsLoad({ url: wsUrl, headers: auth, connections, seconds: s, handshake, request: call, check: good });
      await load(3);
      const cpuBefore = await totalCpuMs(processes);
      const r = await load(seconds);
      const cpu = (await totalCpuMs(processes)) - cpuBefore;
      return {
        name: target.name,
        transport: 'WebSocket',
        ...r,
        rssMb: await rssMb(processes[0]?.child.pid),
        cpuUsPerRequest: (cpu * 1000) / (r.rps * seconds),
      };
    }
    let headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target.mcp) headers = await openSession(url, auth);
    // Each request gets its own JSON-RPC id: ids are unique within a session, and servers key in-flight work by them.
    let nextId = 1;
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
            setupRequest: (request) => ({ ...request, body: JSON.stringify(call(nextId++)) }),
            onResponse: (status: number, responseBody: string) => {
              if (status !== 200 || !good(responseBody)) bad++;
            },
          },
        ],
      });
    await run(3);
    bad = 0;
    const cpuBefore = await totalCpuMs(processes);
    const r = await run(seconds);
    const cpu = (await totalCpuMs(processes)) - cpuBefore;
    return {
      name: target.name,
      transport: 'HTTP',
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: bad + r.errors + r.non2xx + r.timeouts,
      rssMb: await rssMb(processes[0]?.child.pid),
      cpuUsPerRequest: (cpu * 1000) / Math.max(1, r.requests.total),
    };
  } finally {
    for (const p of processes) await p.stop();
  }
}

/** The size of a real getCallDetails answer, so the ceilings answer as much. */
async function answerSize(): Promise<number> {
  const started = await callgate();
  try {
    const headers = await openSession(started.url, { authorization: `Bearer ${started.token}` });
    const res = await fetch(started.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: started.tool.name, arguments: started.tool.arguments },
      }),
    });
    return (await res.text()).length;
  } finally {
    for (const p of started.processes) await p.stop();
  }
}

export async function benchGateway(options: { seconds: number; connections: number; runs: number }): Promise<void> {
  const bodyBytes = await answerSize();
  for (let run = 1; run <= options.runs; run++) {
    const results: Result[] = [];
    for (const target of TARGETS) {
      process.stderr.write(`measuring ${target.name}…\n`);
      results.push(await measure(target, options.seconds, options.connections, bodyBytes));
    }
    const ceiling = (transport: string) =>
      results.find((r) => r.transport === transport && r.name.startsWith('bare'))?.rps ?? 1;
    // The goals are ratios to the official SDK v1 server measured in the same run.
    const sdk = results.find((r) => r.name.startsWith('SDK v1'));
    process.stdout.write(
      [
        `\nrun ${run}/${options.runs}: tools/call (callgate: getCallDetails, ${bodyBytes} B answers; SDK references: getVoiceOptions), ${options.connections} connections, ${options.seconds} s after 3 s warm-up`,
        '| server | transport | req/s | p50 ms | p99 ms | errors | ÷ bare (same transport) | ÷ SDK v1 | CPU µs/request (all its processes) | RSS MB (first process) |',
        '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
        ...results.map(
          (r) =>
            `| ${r.name} | ${r.transport} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} | ${(r.rps / ceiling(r.transport)).toFixed(2)} | ${sdk ? (r.rps / sdk.rps).toFixed(2) : '–'} | ${Math.round(r.cpuUsPerRequest)} | ${r.rssMb.toFixed(0)} |`,
        ),
        '',
      ].join('\n'),
    );
  }
}
