import { TERMINAL_STATUSES } from '@callgate/common';
/**
 * The load: MCP clients (the official SDK v1 client, half over Streamable HTTP, half over WebSocket),
 * each a user of its own, each placing sandbox calls, watching them to the end, and reading the call,
 * the history and the balance. Every answer is checked; failures are counted by kind, never hidden.
 */
import { mintToken, USER_SCOPES } from '@callgate/gateway';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { WsClientTransport } from '../../ws-client-transport.js';

/** Numbers by sandbox outcome (the last four digits decide) and the final status each must reach. */
const TARGETS = [
  { to: '+14155550001', weight: 8, expect: 'completed' },
  { to: '+14155550002', weight: 1, expect: 'busy' },
  { to: '+14155550003', weight: 1, expect: 'no-answer' },
] as const;
const TERMINAL = new Set<string>(TERMINAL_STATUSES);
/** A request not answered within this is a hang (every tool here answers in well under it). */
export const HANG_MS = 45_000;
/** A watched call not terminal within this is reported (sandbox calls last a few seconds). */
const WATCH_LIMIT_MS = 90_000;

export interface LoadStats {
  /** Latency (ms) of every answered request, by tool. */
  latencies: Record<string, number[]>;
  /** Failures by kind: rate-limited, tool:<GRPC_STATUS>, mcp:<code>, transport, hang, wrong-data, … */
  errors: Record<string, number>;
  /** Failed requests that told the client to retry (retryable tool errors, 429, outcome-unknown). */
  retryable: number;
  /** Failed requests that did not say they were retryable (outside rate limits and transport drops). */
  nonRetryable: string[];
  /** Calls seen placed, and seen reach a final status, by the clients. */
  placed: Set<string>;
  completed: number;
  /** Final statuses other than the number's outcome (a fault may cause them; without faults they are a bug). */
  unexpectedOutcomes: Record<string, number>;
  /** Calls a client gave up watching (not terminal in WATCH_LIMIT_MS). */
  unfinishedWatches: number;
  /** The users the clients act as. */
  users: string[];
}

export function emptyStats(users: string[]): LoadStats {
  return {
    latencies: {},
    errors: {},
    retryable: 0,
    nonRetryable: [],
    placed: new Set(),
    completed: 0,
    unexpectedOutcomes: {},
    unfinishedWatches: 0,
    users,
  };
}

interface ToolAnswer {
  ok: boolean;
  structured?: Record<string, unknown>;
}

class Failure extends Error {
  constructor(
    readonly kind: string,
    readonly retryable: boolean,
    message: string,
  ) {
    super(message);
  }
}

/** What one failed request was, from the SDK's error (transport, JSON-RPC) or the tool's isError result. */
function classify(error: unknown, elapsedMs: number): Failure {
  if (error instanceof Failure) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (elapsedMs >= HANG_MS || /timed out|timeout/i.test(message)) return new Failure('hang', false, message);
  // Over HTTP the gateway answers 429 with a JSON-RPC error; over WebSocket the same error in a frame.
  if (code === 429 || /\b429\b|rate limit/i.test(message)) return new Failure('rate-limited', true, message);
  // The SDK's own codes: -32000 its connection closed under the request (the gateway went away), -32001 its timeout.
  if (code === -32001) return new Failure('hang', false, message);
  if (code === -32000 && /connection closed/i.test(message)) return new Failure('transport', true, message);
  if (typeof code === 'number' && code < 0) {
    const retryable = (error as { data?: { retryable?: boolean } }).data?.retryable === true;
    return new Failure(`mcp:${code}`, retryable, message);
  }
  // A dropped connection, a refused one, a 502/503 from a gateway being restarted.
  return new Failure('transport', true, message);
}

export interface ClientOptions {
  mcpUrl: string;
  jwt: { secret: string; issuer: string; audience: string };
  transport: 'http' | 'ws';
  userId: string;
  stats: LoadStats;
  /** Set when the load ends: no new call is placed, the current step ends. */
  stop: AbortSignal;
  /** Pause between two cycles (keeps each user under its rate limits). */
  thinkMs: number;
}

/** One client's session; reconnects after its connection failed (a restarted gateway). */
class Session {
  private client: Client | undefined;

  constructor(private readonly options: ClientOptions) {}

  private async connect(): Promise<Client> {
    const { mcpUrl, jwt, userId, transport } = this.options;
    const token = mintToken(jwt, { sub: userId, scope: USER_SCOPES }, 3600);
    const headers = { Authorization: `Bearer ${token}` };
    const client = new Client({ name: `bench-${transport}`, version: '1.0.0' });
    await client.connect(
      transport === 'http'
        ? new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers } })
        : new WsClientTransport(mcpUrl.replace('http://', 'ws://'), headers),
    );
    client.onclose = () => {
      if (this.client === client) this.client = undefined;
    };
    // Over Streamable HTTP a request's answer comes on its POST's SSE stream. When the gateway dies under
    // it (SIGKILL), the SDK client only reports the broken stream here and tries to resume it (which a
    // restarted gateway without the session refuses); the request itself is never failed, so it would
    // read as a 45 s hang. The connection is gone: closing the client fails its requests at once with
    // "Connection closed" (a transport failure, retried; makePhoneCall with the same key).
    client.onerror = (error) => {
      if (/SSE stream disconnected|reconnect SSE stream|reconnection attempts/i.test(error.message)) {
        void client.close().catch(() => undefined);
      }
    };
    return client;
  }

  /** Calls a tool; records latency or the failure's kind; throws Failure on failure. */
  async tool(name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
    const { stats } = this.options;
    const started = performance.now();
    try {
      this.client ??= await this.connect();
      const result = await this.client.callTool({ name, arguments: args }, undefined, { timeout: HANG_MS });
      const elapsed = performance.now() - started;
      if (result.isError) {
        const meta = (result._meta ?? {}) as Record<string, unknown>;
        const grpc = String(meta['callgate/grpc-status'] ?? 'unknown');
        const text = JSON.stringify(result.content);
        // "may or may not have been placed": the answer to retry with the same key, which never dials twice.
        const unknown = /may or may not have been placed/.test(text);
        throw new Failure(
          unknown ? 'tool:outcome-unknown' : `tool:${grpc}`,
          unknown || meta['callgate/retryable'] === true,
          text,
        );
      }
      stats.latencies[name] ??= [];
      stats.latencies[name].push(elapsed);
      return { ok: true, structured: result.structuredContent as Record<string, unknown> };
    } catch (error) {
      const failure = classify(error, performance.now() - started);
      stats.errors[failure.kind] = (stats.errors[failure.kind] ?? 0) + 1;
      if (failure.retryable) stats.retryable++;
      else if (failure.kind !== 'transport') stats.nonRetryable.push(`${name}: ${failure.kind}: ${failure.message}`);
      if (failure.kind === 'transport' || failure.kind === 'hang') {
        // The connection may be dead (gateway restarted): the next request opens a new one.
        await this.client?.close().catch(() => undefined);
        this.client = undefined;
      }
      throw failure;
    }
  }

  async close(): Promise<void> {
    await this.client?.close().catch(() => undefined);
  }
}

/** Waits ms, or less when the load ends; leaves no listener behind (clients sleep thousands of times). */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

function pickTarget(n: number): (typeof TARGETS)[number] {
  const total = TARGETS.reduce((s, t) => s + t.weight, 0);
  let slot = n % total;
  for (const target of TARGETS) {
    if (slot < target.weight) return target;
    slot -= target.weight;
  }
  return TARGETS[0];
}

function wrongData(stats: LoadStats, what: string): void {
  stats.errors['wrong-data'] = (stats.errors['wrong-data'] ?? 0) + 1;
  stats.nonRetryable.push(`wrong data: ${what}`);
}

/** One client's loop until stop: place, watch, read; every step's failure is counted, then the loop goes on. */
export async function runClient(options: ClientOptions, index: number): Promise<void> {
  const { stats, stop, userId } = options;
  const session = new Session(options);
  try {
    for (let n = 0; !stop.aborted; n++) {
      const target = pickTarget(n + index);
      const idempotencyKey = `${userId}-call-${n}`;
      // Place the call; a retryable failure is retried with the same key (it never dials twice).
      let callId: string | undefined;
      while (!callId && !stop.aborted) {
        try {
          const placed = await session.tool('makePhoneCall', {
            to: target.to,
            task: 'Load test: say hello and hang up.',
            maxDurationSeconds: 30,
            idempotencyKey,
          });
          const call = placed.structured?.call as { callId?: string } | undefined;
          if (!call?.callId) wrongData(stats, `makePhoneCall answered without a call id: ${JSON.stringify(placed)}`);
          callId = call?.callId ?? '';
        } catch (error) {
          if (!(error as Failure).retryable && (error as Failure).kind !== 'transport') break;
          await sleep(1000, stop);
        }
      }
      if (!callId) continue;
      stats.placed.add(callId);

      // Watch it to the end (getCallProgress), as an agent without a stream would.
      const watchUntil = Date.now() + WATCH_LIMIT_MS;
      let final: string | undefined;
      while (!final && !stop.aborted && Date.now() < watchUntil) {
        await sleep(1000, stop);
        try {
          const p = (await session.tool('getCallProgress', { callId })).structured?.progress as
            | { callId?: string; status?: string }
            | undefined;
          if (p?.callId !== callId) wrongData(stats, `progress of ${callId} named ${p?.callId}`);
          if (p?.status && TERMINAL.has(p.status)) final = p.status;
        } catch {
          // counted; keep watching
        }
      }
      if (!final) {
        if (!stop.aborted) stats.unfinishedWatches++;
        continue;
      }
      stats.completed++;
      if (final !== target.expect) {
        const key = `${target.expect}→${final}`;
        stats.unexpectedOutcomes[key] = (stats.unexpectedOutcomes[key] ?? 0) + 1;
      }
      // Read it back, with the history and the balance, as a user checking on their calls does.
      try {
        const details = (await session.tool('getCallDetails', { callId })).structured?.call as
          | { callId?: string; status?: string }
          | undefined;
        if (details?.callId !== callId) wrongData(stats, `details of ${callId} named ${details?.callId}`);
        else if (details.status !== final) wrongData(stats, `${callId} ended ${final} but reads ${details.status}`);
      } catch {}
      try {
        const history = (await session.tool('getCallHistory', { pageSize: 5 })).structured?.calls as
          | { callId?: string }[]
          | undefined;
        // This user's calls are placed one at a time, so the newest is the one just watched.
        if (history?.[0]?.callId !== callId)
          wrongData(stats, `history of ${userId} starts with ${history?.[0]?.callId}, not ${callId}`);
      } catch {}
      try {
        const balance = (await session.tool('getCreditBalance', {})).structured;
        if (typeof (balance?.balance as { available?: unknown } | undefined)?.available !== 'number') {
          wrongData(stats, `balance without available: ${JSON.stringify(balance)}`);
        }
      } catch {}
      await sleep(options.thinkMs, stop);
    }
  } finally {
    await session.close();
  }
}
