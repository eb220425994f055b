/**
 * The Redis a test runs against: REDIS_URL when set (CI sets it), else none, and tests of the Redis path
 * skip saying so. Tests share one Redis, so each uses keys under its own prefix.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, Socket } from 'node:net';

/** REDIS_URL when set, else undefined. */
export function openTestRedis(): string | undefined {
  return process.env.REDIS_URL || undefined;
}

/** The skip reason of a test that needs Redis, or false when it can run. */
export function needsRedis(): string | false {
  return openTestRedis()
    ? false
    : 'REDIS_URL is not set: the Redis path is not tested here (CI sets REDIS_URL=redis://127.0.0.1:6379)';
}

/** A key prefix no other test (or test file running in parallel, or earlier run) uses. */
export function uniqueKeyPrefix(name: string): string {
  return `test:${name}:${randomUUID()}`;
}

/** A local port nothing listens on: a Redis URL to it is a Redis that is down. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface RedisProxy {
  /** redis://… through the proxy. */
  url: string;
  /** Cuts every connection and refuses new ones: Redis is down as far as clients can tell. */
  stop(): Promise<void>;
  /** Accepts connections again on the same port. */
  start(): Promise<void>;
}

/** A TCP proxy in front of the Redis at target, which a test can stop and start to play an outage. */
export async function startRedisProxy(target: string): Promise<RedisProxy> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const start = async () => {
    const listening = createServer((client) => {
      const upstream = new Socket();
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      upstream.connect(Number(targetPort || 6379), hostname, () => {
        client.pipe(upstream).pipe(client);
      });
    });
    await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', resolve));
    port = (listening.address() as { port: number }).port;
    server = listening;
  };
  await start();
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    start,
    stop: async () => {
      const closing = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
  };
}
