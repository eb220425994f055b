/**
 * `npx tsx --conditions=callgate-source scripts/bench/ws-flood.ts`: one WebSocket frame of a megabyte of
 * `[1,1,…]` (524,287 entries, just under WS_MAX_FRAME_BYTES) against a local system in this process, then
 * a ping. Prints the frames and bytes the client got back until the ping's answer, the longest event-loop
 * stall, the peak growth of RSS and heap, and how long the ping waited. Figures, not a test.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { tokenFor } from '../../test/support/system.js';
import { startLocalSystem } from '../local-system.js';

const ENTRIES = 524_287;
const revision = process.argv[2] ?? '2025-03-26';

const system = await startLocalSystem({
  ports: 'ephemeral',
  env: { ...process.env, LOG_LEVEL: 'silent', RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_MINUTE: '60000000' },
});
try {
  const ws = new WebSocket(system.mcpUrl.replace('http://', 'ws://'), 'mcp', {
    headers: { authorization: `Bearer ${tokenFor(system, 'flood', 600)}` },
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let frames = 0;
  let bytes = 0;
  const answered = new Map<string, () => void>();
  ws.on('message', (data: Buffer) => {
    frames++;
    bytes += data.length;
    const id = (JSON.parse(String(data)) as { id?: unknown }).id;
    if (typeof id === 'string') answered.get(id)?.();
  });
  const request = (id: string, method: string, params?: object) => {
    const done = new Promise<void>((resolve) => answered.set(id, resolve));
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }));
    return done;
  };
  await request('init', 'initialize', {
    protocolVersion: revision,
    capabilities: {},
    clientInfo: { name: 'flood', version: '1' },
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  await request('warm', 'ping');

  global.gc?.();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, 5);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  frames = 0;
  bytes = 0;
  const flood = `[${'1,'.repeat(ENTRIES - 1)}1]`;
  const started = performance.now();
  ws.send(flood);
  await request('after', 'ping');
  const waited = performance.now() - started;
  delay.disable();
  clearInterval(sampler);
  const after = process.memoryUsage();
  peakRss = Math.max(peakRss, after.rss);
  peakHeap = Math.max(peakHeap, after.heapUsed);
  const mb = (n: number) => Math.round((n / 1_048_576) * 10) / 10;
  process.stdout.write(
    JSON.stringify({
      revision,
      frameBytes: flood.length,
      entries: ENTRIES,
      framesBack: frames - 1,
      bytesBack: bytes,
      maxEventLoopStallMs: Math.round(delay.max / 1e6),
      peakRssGrowthMB: mb(peakRss - before.rss),
      peakHeapGrowthMB: mb(peakHeap - before.heapUsed),
      pingWaitedMs: Math.round(waited),
    }) + '\n',
  );
  ws.close();
} finally {
  await system.stop();
}
