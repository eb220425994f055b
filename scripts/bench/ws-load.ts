/**
 * A closed-loop WebSocket load generator for JSON-RPC: each connection keeps one request in flight for the
 * duration, so requests per second and latency compare with autocannon's HTTP figures at the same
 * connection count. Every answer is checked.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { percentile } from './shared.js';

export interface WsLoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

export async function wsLoad(options: {
  url: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  /** Sent once per connection before the loop (e.g. MCP initialize), answers awaited. */
  handshake: (id: number) => object[];
  request: (id: number) => object;
  check: (answer: string) => boolean;
}): Promise<WsLoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = { at: Number.POSITIVE_INFINITY };
  const worker = async () => {
    const socket = new WebSocket(options.url, { headers: options.headers });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    let nextId = 1;
    const waiters = new Map<number, (answer: string) => void>();
    let closed = false;
    socket.on('close', () => {
      // A closed connection answers nothing more: count what it owed as errors and stop this worker.
      closed = true;
      errors += waiters.size;
      for (const resolve of waiters.values()) resolve('');
      waiters.clear();
    });
    socket.on('message', (data) => {
      const text = String(data);
      const id = Number(/"id":(\d+)/.exec(text)?.[1]);
      waiters.get(id)?.(text);
      waiters.delete(id);
    });
    const ask = (message: object & { id?: number }) =>
      new Promise<string>((resolve) => {
        if (message.id !== undefined) waiters.set(message.id, resolve);
        socket.send(JSON.stringify(message));
        if (message.id === undefined) resolve('');
      });
    for (const message of options.handshake(nextId++)) await ask(message);
    while (!closed && performance.now() < deadline.at) {
      const started = performance.now();
      const answer = await ask(options.request(nextId++));
      if (performance.now() >= deadline.at) break;
      latencies.push(performance.now() - started);
      if (!options.check(answer)) errors++;
    }
    socket.close();
  };
  deadline.at = performance.now() + options.seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: options.connections }, worker));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / elapsed,
    p50: Math.round(percentile(latencies, 50)),
    p99: Math.round(percentile(latencies, 99)),
    errors,
  };
}
