/**
 * `npm run bench -- relay [--connections 50] [--runs 1]`: our added latency on the voice agent's turns,
 * from a final ConversationRelay `prompt` to the first `text` token back, with the built-in agent (no
 * LLM time in it). The local system (every service, the sandbox carrier, PostgreSQL when DATABASE_URL
 * is set, else PGlite) runs in its own process. This process plays Twilio: it places calls over gRPC to
 * the sandbox's silent answering number, and for each answered call fetches the TwiML from the call
 * service's voice URL (signed), opens the relay WebSocket with a signed handshake, sends `setup`, and
 * answers each of the agent's questions (a schema of 12 string fields, then "yes" to the confirmation),
 * timing each final prompt to the first token. Then it hangs the call up. 1,000 turns are measured
 * one conversation at a time (our latency alone), then again with --connections conversations at once.
 * Also prints the server's own histogram (call_relay_first_token_overhead_seconds) mean.
 *
 * The same file is the system's entry point when CALLGATE_BENCH_RELAY_SYSTEM=1.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { connectService, type PromiseClient } from '@callgate/common';
import type { callV1, creditV1 } from '@callgate/protos';
import { SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, SANDBOX_NUMBERS } from '@callgate/sandbox';
import twilio from 'twilio';
import WebSocket from 'ws';
import { startLocalSystem } from '../local-system.js';
import { startProcess } from './processes.js';
import { fundedUsers, percentile } from './shared.js';

type CallClient = PromiseClient<callV1.CallServiceDefinition>;
type CreditClient = PromiseClient<creditV1.CreditServiceDefinition>;

const SYSTEM_FLAG = 'CALLGATE_BENCH_RELAY_SYSTEM';
const TURNS = 1000;
const FIELDS = 12;
const GREETING_MS = 100;
const SCHEMA = JSON.stringify({
  type: 'object',
  properties: Object.fromEntries(Array.from({ length: FIELDS }, (_, i) => [`field${i + 1}`, { type: 'string' }])),
});

async function runSystem(): Promise<void> {
  const system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: 'silent',
      SANDBOX_CALL_STEP_MS: '20',
      // The silent number stays on the line until the bench hangs up.
      SANDBOX_TALK_MS: '600000',
      RELAY_MAX_TURNS: '500',
      DEFAULT_MAX_CONCURRENT_CALLS: '100',
    },
  });
  const call = system.services.find((s) => s.name === 'call');
  process.stdout.write(
    `READY ${JSON.stringify({
      call: system.grpc.call,
      credit: system.grpc['user-credit'],
      webhooks: call?.endpoints.webhooks,
      metrics: `http://127.0.0.1:${call?.opsPort}/metrics`,
    })}\n`,
  );
  process.once('SIGTERM', () => {
    void system.stop().finally(() => process.exit(0));
  });
}

if (process.env[SYSTEM_FLAG] === '1' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runSystem();
}

interface Addresses {
  call: string;
  credit: string;
  webhooks: string;
  metrics: string;
}

/** One relay socket, as Twilio opens it: frames are awaited one talk cycle at a time. */
class RelaySession {
  readonly #frames: { type: string; token?: string; last?: boolean }[] = [];
  #wake: (() => void) | undefined;
  closed = false;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.#frames.push(JSON.parse(data.toString()) as { type: string });
      this.#wake?.();
    });
    ws.on('close', () => {
      this.closed = true;
      this.#wake?.();
    });
  }

  async next(): Promise<{ type: string; token?: string; last?: boolean } | undefined> {
    while (this.#frames.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    return this.#frames.shift();
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }
}

/** Waits (bounded) for GetCall to show the call answered with its carrier sid. */
async function answered(call: CallClient, userId: string, callId: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { call: now } = await call.getCall({ userId, callId });
    if (now?.status === 'CALL_STATUS_IN_PROGRESS' && now.carrierCallId) return now.carrierCallId;
    if (Date.now() > deadline) throw new Error(`call ${callId} not answered (${now?.status})`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** One whole conversation; returns the latency (ms) of each final prompt to its first token. */
async function converse(
  call: CallClient,
  addresses: Addresses,
  userId: string,
  budget: { left: number },
): Promise<number[]> {
  const { call: placed } = await call.placeCall({
    userId,
    to: SANDBOX_NUMBERS.answers,
    task: 'Collect the bench fields',
    maxDurationSeconds: 600,
    outcomeSchemaJson: SCHEMA,
    idempotencyKey: randomUUID(),
  });
  const callId = placed?.callId as string;
  const sid = await answered(call, userId, callId);
  const params = {
    AccountSid: SANDBOX_ACCOUNT_SID,
    CallSid: sid,
    CallStatus: 'in-progress',
    Direction: 'outbound-api',
  };
  const voiceUrl = `${addresses.webhooks}/twilio/voice?callId=${callId}`;
  const twiml = await (
    await fetch(voiceUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(SANDBOX_AUTH_TOKEN, voiceUrl, params),
      },
      body: new URLSearchParams(params).toString(),
    })
  ).text();
  const url = /<ConversationRelay [^>]*url="([^"]+)"/.exec(twiml)?.[1];
  if (!url) throw new Error(`no ConversationRelay in ${twiml}`);
  const ws = new WebSocket(url, {
    headers: { 'x-twilio-signature': twilio.getExpectedTwilioSignature(SANDBOX_AUTH_TOKEN, url, {}) },
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const session = new RelaySession(ws);
  session.send({
    type: 'setup',
    sessionId: 'VXbench',
    callSid: sid,
    accountSid: SANDBOX_ACCOUNT_SID,
    customParameters: { callId },
  });
  // The welcome greeting plays for seconds before a person answers it: the setup (the call's lookup)
  // is done by then, so it is not part of a turn's latency here either.
  await new Promise((resolve) => setTimeout(resolve, GREETING_MS));
  const latencies: number[] = [];
  let answer = 'Hello?';
  for (let i = 0; budget.left > 0; i++) {
    budget.left -= 1;
    const t0 = performance.now();
    session.send({ type: 'prompt', voicePrompt: answer, lang: 'en-US', last: true });
    let first = true;
    let text = '';
    for (;;) {
      const frame = await session.next();
      if (!frame || frame.type === 'end') break;
      if (frame.type !== 'text') continue;
      if (first) {
        latencies.push(performance.now() - t0);
        first = false;
      }
      text += frame.token ?? '';
      if (frame.last) break;
    }
    if (session.closed || /Goodbye/.test(text)) break;
    answer = /Is that right\?/.test(text) ? 'Yes.' : `value ${i + 1}`;
  }
  ws.close();
  await call.cancelCall({ userId, callId, reason: 'bench done' }).catch(() => undefined);
  return latencies;
}

async function measure(
  call: CallClient,
  addresses: Addresses,
  users: string[],
  concurrency: number,
): Promise<number[]> {
  const budget = { left: TURNS };
  const all: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (budget.left > 0)
        all.push(...(await converse(call, addresses, users[worker % users.length] as string, budget)));
    }),
  );
  return all.sort((a, b) => a - b);
}

/**
 * The server histogram (built-in agent): mean (sum / count) and the bucket bounds under which 50% and
 * 99% of turns fell, in ms.
 */
async function serverHistogram(metricsUrl: string): Promise<{ mean: number; count: number; p50: string; p99: string }> {
  const text = await (await fetch(metricsUrl)).text();
  const name = 'call_relay_first_token_overhead_seconds';
  const lines = text.split('\n').filter((l) => l.startsWith(name) && l.includes('agent="builtin"'));
  const value = (suffix: string) =>
    Number(
      lines
        .find((l) => l.startsWith(`${name}_${suffix}{`))
        ?.split(' ')
        .at(-1),
    );
  const count = value('count');
  const buckets = lines
    .filter((l) => l.startsWith(`${name}_bucket{`))
    .map((l) => ({ le: /le="([^"]+)"/.exec(l)?.[1] ?? '', n: Number(l.split(' ').at(-1)) }));
  const bound = (p: number) => {
    const le = buckets.find((b) => b.n >= (p / 100) * count)?.le ?? '?';
    return le === '+Inf' ? '> 1000' : `≤ ${Number(le) * 1000}`;
  };
  return { mean: (value('sum') / count) * 1000, count, p50: bound(50), p99: bound(99) };
}

function clients(addresses: Addresses): { call: CallClient; credit: CreditClient } {
  const options = { defaultDeadlineMs: 30_000 };
  return {
    call: connectService('call', addresses.call, options),
    credit: connectService('credit', addresses.credit, options),
  };
}

export async function benchRelay(options: { seconds: number; connections: number; runs: number }): Promise<void> {
  const system = await startProcess('scripts/bench/relay.ts', /^READY /, { [SYSTEM_FLAG]: '1' });
  const addresses = JSON.parse(
    (system.output.find((l) => l.startsWith('READY ')) ?? 'READY {}').slice('READY '.length),
  ) as Addresses;
  const { call, credit } = clients(addresses);
  const concurrent = Math.max(1, Math.min(options.connections, 50));
  try {
    const users = await fundedUsers(credit, concurrent, `bench-relay-${randomUUID().slice(0, 8)}`);
    // Warm-up: one conversation, not measured (module loading, JIT, first connections).
    await converse(call, addresses, users[0] as string, { left: 20 });
    const db = process.env.DATABASE_URL ? `PostgreSQL at ${new URL(process.env.DATABASE_URL).host}` : 'embedded PGlite';
    process.stdout.write(
      `\nrelay: final prompt → first text token over the relay WebSocket, built-in agent, ${TURNS} turns per row; ` +
        `local system in its own process on ${db}\n` +
        '| conversations at once | turns | p50 ms | p90 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- | --- |\n',
    );
    for (let run = 1; run <= options.runs; run++) {
      for (const at of [1, concurrent]) {
        const sorted = await measure(call, addresses, users, at);
        const fmt = (p: number) => percentile(sorted, p).toFixed(2);
        process.stdout.write(
          `| ${at} | ${sorted.length} | ${fmt(50)} | ${fmt(90)} | ${fmt(99)} | ${(sorted.at(-1) ?? Number.NaN).toFixed(2)} |\n`,
        );
        if (sorted.length < TURNS) process.exitCode = 1;
      }
    }
    const server = await serverHistogram(addresses.metrics);
    process.stdout.write(
      `server histogram call_relay_first_token_overhead_seconds{agent="builtin"} (prompt received → first token ` +
        `sent, no socket time): ${server.count} turns, mean ${server.mean.toFixed(3)} ms, p50 ${server.p50} ms, ` +
        `p99 ${server.p99} ms (bucket bounds)\n`,
    );
  } finally {
    call.close();
    credit.close();
    await system.stop();
  }
}
