/**
 * `npm run bench -- sessions`: what sharing 2025-era sessions in Redis costs. Two gateways in this
 * process against one set of services: one keeps sessions in memory only, one shares them in Redis
 * (REDIS_URL, default redis://127.0.0.1:6379). Reports Redis memory per idle session (its record and
 * subscription set, by MEMORY USAGE), the latency of session requests through each gateway (the same
 * cached tool, sequential, so the store's per-request work is what differs), and the first request of
 * a session on a replica that did not open it (the resumption).
 */
import { randomUUID } from 'node:crypto';
import { connectRedis, createLogger, loadConfig, redisReady, type ServiceHandle } from '@callgate/common';
import { gatewayConfigShape, mintToken, startGateway, USER_SCOPES } from '@callgate/gateway';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startLocalSystem } from '../local-system.js';
import { percentile } from './shared.js';

const SESSIONS = 200;
const REQUESTS = 1000;

export async function benchSessions(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, REDIS_URL: '', LOG_LEVEL: 'warn' },
  });
  const gateway = (redis: string) =>
    startGateway(
      loadConfig('gateway', gatewayConfigShape, {
        ...process.env,
        LOG_LEVEL: 'warn',
        HTTP_PORT: '0',
        GRPC_PORT: '0',
        METRICS_PORT: '0',
        CALL_SERVICE_ADDR: system.grpc.call,
        CREDIT_SERVICE_ADDR: system.grpc['user-credit'],
        JWT_SECRET: system.jwt.secret,
        REDIS_URL: redis,
        // Rate limits are not what is measured here.
        RATE_LIMIT_BURST: '100000',
        RATE_LIMIT_PER_MINUTE: '6000000',
      }),
    );
  const memory = await gateway('');
  const sharedA = await gateway(redisUrl);
  const sharedB = await gateway(redisUrl);
  const redis = connectRedis(redisUrl, createLogger('bench', 'silent'), {
    connectionName: 'bench',
    meanwhile: 'nothing',
  });
  if (!(await redisReady(redis, 5000))) throw new Error('Redis does not answer');
  // One user per session: a user's sessions beyond MCP_MAX_SESSIONS_PER_USER would evict each other.
  const tokenFor = (user: string) => mintToken(system.jwt, { sub: `bench-sessions-${user}`, scope: USER_SCOPES }, 3600);
  const connect = async (handle: ServiceHandle, user: string, sessionId?: string) => {
    const transport = new StreamableHTTPClientTransport(new URL(handle.endpoints.mcp as string), {
      requestInit: { headers: { Authorization: `Bearer ${tokenFor(user)}` } },
      sessionId,
    });
    const client = new Client({ name: 'bench-sessions', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport };
  };
  const time = async (client: Client) => {
    const started = performance.now();
    await client.callTool({ name: 'getVoiceOptions', arguments: {} });
    return performance.now() - started;
  };
  try {
    // Memory per idle session: open sessions (each subscribed to one resource), then measure their keys.
    const run = randomUUID();
    const opened: { client: Client; transport: StreamableHTTPClientTransport; user: string }[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const user = `${run}-${i}`;
      const session = await connect(sharedA, user);
      await session.client.subscribeResource({ uri: 'callgate://calls' });
      opened.push({ ...session, user });
    }
    let bytes = 0;
    for (const { transport } of opened) {
      const id = transport.sessionId as string;
      bytes += Number(await redis.call('MEMORY', 'USAGE', `callgate:session:${id}`));
      bytes += Number(await redis.call('MEMORY', 'USAGE', `callgate:session:${id}:subscriptions`));
    }

    // Resumption: each session's first request on the replica that did not open it.
    const resumed: number[] = [];
    for (const { transport, user } of opened.slice(0, 100)) {
      // The SDK client, given a session id, skips initialize and continues the session.
      const other = await connect(sharedB, user, transport.sessionId);
      resumed.push(await time(other.client).catch(() => Number.NaN));
    }

    // Steady state: sequential requests over one session, memory-only vs shared, interleaved in rounds.
    const rows: Record<string, number[]> = { memory: [], shared: [] };
    const clients = {
      memory: (await connect(memory, `${run}-steady`)).client,
      shared: (await connect(sharedA, `${run}-steady`)).client,
    };
    for (const client of Object.values(clients)) for (let i = 0; i < 100; i++) await time(client); // warm-up
    for (let round = 0; round < 10; round++) {
      for (const [name, client] of Object.entries(clients)) {
        for (let i = 0; i < REQUESTS / 10; i++) rows[name]?.push(await time(client));
      }
    }
    const ms = (v: number) => v.toFixed(2);
    process.stdout.write(
      `Redis memory per idle session (record + one subscription, MEMORY USAGE, ${SESSIONS} sessions): ` +
        `${Math.round(bytes / SESSIONS)} bytes\n`,
    );
    process.stdout.write('| store | requests | p50 ms | p99 ms |\n| --- | --- | --- | --- |\n');
    for (const [name, values] of Object.entries(rows)) {
      const sorted = [...values].sort((a, b) => a - b);
      process.stdout.write(
        `| ${name} | ${sorted.length} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 99))} |\n`,
      );
    }
    const sorted = resumed.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    process.stdout.write(
      `| first request on another replica (resumed) | ${sorted.length} | ${ms(percentile(sorted, 50))} | ${ms(percentile(sorted, 99))} |\n`,
    );
    for (const { client } of opened) await client.close().catch(() => undefined);
  } finally {
    redis.disconnect();
    await sharedB.stop();
    await sharedA.stop();
    await memory.stop();
    await system.stop();
  }
}
