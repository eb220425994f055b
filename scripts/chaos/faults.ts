/**
 * The fault schedule of `npm run chaos`, run while the MCP clients keep loading the system: each fault
 * is injected, held, and undone in turn, with a quiet gap between faults. For each it records what the
 * clients saw (errors by kind, any that did not say they were retryable), how long until a canary
 * request through the gateway succeeded again, and whether every call placed before the fault ended
 * and was settled afterwards.
 */
import { mintToken, USER_SCOPES } from '@callgate/gateway';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { LoadStats } from '../bench/system/clients.js';
import type { Cluster, ServiceName } from '../bench/system/cluster.js';
import { waitForQuiet } from '../bench/system/invariants.js';
import type { DelayProxy } from './delay-proxy.js';
import { ensureInfraUp, restartPostgres, startRedis, stopRedis } from './infra.js';

export interface Fault {
  name: string;
  /** Why it is skipped in this mode (e.g. no PostgreSQL to restart with the embedded database). */
  skip?: string;
  inject(): Promise<void>;
  /** Undoes the fault; resolves once the broken part is back. */
  restore(): Promise<void>;
  holdMs: number;
}

export interface FaultRecord {
  name: string;
  skipped?: string;
  heldSeconds: number;
  /** From restore() resolving to the first successful canary request; 0 when the canary never failed. */
  recoverySeconds: number;
  canaryFailures: number;
  errors: Record<string, number>;
  nonRetryable: string[];
  /** '' when every call placed before the fault was terminal and settled afterwards. */
  afterCheck: string;
  /** Services that died by themselves during the fault (restarted by the harness so the run goes on). */
  crashed: string[];
}

export interface FaultContext {
  cluster: Cluster;
  proxy: DelayProxy;
  databaseUrl?: string;
  redisUrl?: string;
  holdMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The faults of the issue, in order: each service killed, PostgreSQL restarted, Redis stopped, Sheets failing, slow callbacks. */
export function faultSchedule(ctx: FaultContext): Fault[] {
  const kill = (name: ServiceName): Fault => ({
    name: `SIGKILL ${name}, restart after ${ctx.holdMs / 1000} s`,
    holdMs: ctx.holdMs,
    inject: () => ctx.cluster.kill(name),
    restore: () => ctx.cluster.startOne(name),
  });
  const sheets = (mode: '5xx' | 'outage') => async () => {
    await fetch(`${ctx.cluster.sandboxUrl}/sandbox/sheets/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode }),
    });
  };
  const sheetsOff = sheets('none' as '5xx');
  return [
    ...(['user-credit', 'sheets-sync', 'call', 'poller', 'gateway'] as const).map(kill),
    {
      name: 'restart PostgreSQL',
      ...(ctx.databaseUrl ? {} : { skip: 'embedded PGlite: no PostgreSQL server (run with DATABASE_URL)' }),
      holdMs: 0,
      inject: restartPostgres,
      restore: ensureInfraUp,
    },
    {
      name: `stop Redis for ${(2 * ctx.holdMs) / 1000} s`,
      ...(ctx.redisUrl ? {} : { skip: 'no Redis in this mode (run with REDIS_URL)' }),
      holdMs: 2 * ctx.holdMs,
      inject: stopRedis,
      restore: startRedis,
    },
    {
      name: `Sheets API answers 503 for ${(2 * ctx.holdMs) / 1000} s`,
      holdMs: 2 * ctx.holdMs,
      inject: sheets('5xx'),
      restore: sheetsOff,
    },
    {
      name: `Sheets API unreachable (connections reset) for ${(2 * ctx.holdMs) / 1000} s`,
      holdMs: 2 * ctx.holdMs,
      inject: sheets('outage'),
      restore: sheetsOff,
    },
    {
      name: `carrier callbacks delayed 8 s, for ${(3 * ctx.holdMs) / 1000} s`,
      holdMs: 3 * ctx.holdMs,
      inject: async () => ctx.proxy.setDelay(8000),
      restore: async () => ctx.proxy.setDelay(0),
    },
  ];
}

/** A request through the gateway to both backends every 500 ms, to see when the system answers again. */
class Canary {
  private client: Client | undefined;
  private stopped = false;
  lastOk = 0;
  failures = 0;
  private loop: Promise<void> | undefined;

  constructor(private readonly cluster: Cluster) {}

  start(): void {
    const token = mintToken(this.cluster.jwt, { sub: 'chaos-canary', scope: USER_SCOPES }, 3600);
    this.loop = (async () => {
      for (let i = 0; !this.stopped; i++) {
        try {
          if (!this.client) {
            const client = new Client({ name: 'chaos-canary', version: '1.0.0' });
            await client.connect(
              new StreamableHTTPClientTransport(new URL(this.cluster.mcpUrl), {
                requestInit: { headers: { Authorization: `Bearer ${token}` } },
              }),
            );
            this.client = client;
          }
          const name = i % 2 ? 'getCreditBalance' : 'getCallHistory';
          const r = await this.client.callTool({ name, arguments: {} }, undefined, { timeout: 10_000 });
          if (r.isError) throw new Error(JSON.stringify(r.content));
          this.lastOk = Date.now();
        } catch {
          this.failures++;
          await this.client?.close().catch(() => undefined);
          this.client = undefined;
        }
        // Two requests a second stay within one user's default limit (120 a minute).
        await sleep(500);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.client?.close().catch(() => undefined);
  }
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(after)) if (n - (before[k] ?? 0) > 0) out[k] = n - (before[k] ?? 0);
  return out;
}

/** Runs the faults one after another; infrastructure is restored whatever happens. */
export async function runFaults(
  ctx: FaultContext,
  stats: LoadStats,
  records: FaultRecord[],
  gapMs: number,
): Promise<void> {
  const canary = new Canary(ctx.cluster);
  canary.start();
  try {
    await sleep(gapMs); // steady load first
    for (const fault of faultSchedule(ctx)) {
      if (fault.skip) {
        records.push({
          name: fault.name,
          skipped: fault.skip,
          heldSeconds: 0,
          recoverySeconds: 0,
          canaryFailures: 0,
          errors: {},
          nonRetryable: [],
          afterCheck: '',
          crashed: [],
        });
        continue;
      }
      process.stderr.write(`chaos: ${fault.name}\n`);
      const errorsBefore = { ...stats.errors };
      const nonRetryableBefore = stats.nonRetryable.length;
      const canaryBefore = canary.failures;
      const crashesBefore = ctx.cluster.crashes.length;
      const injected = Date.now();
      await fault.inject();
      await sleep(fault.holdMs);
      await fault.restore();
      // A service that crashed on the fault is a finding; it is restarted so the later faults still run.
      const crashed = ctx.cluster.crashes.slice(crashesBefore);
      for (const crash of crashed) {
        process.stderr.write(
          `chaos: ${crash.name} crashed (${crash.signal ?? crash.code}); restarting it\n${crash.tail}\n`,
        );
        await ctx.cluster.startOne(crash.name);
      }
      const restored = Date.now();
      // Recovery: the first canary success after the restore (bounded).
      const failedDuring = canary.failures > canaryBefore;
      while (failedDuring && canary.lastOk < restored && Date.now() - restored < 60_000) await sleep(100);
      const recoverySeconds = failedDuring ? Math.max(0, (canary.lastOk - restored) / 1000) : 0;
      await sleep(gapMs);
      // After the fault: every call placed before it was undone has ended and had its credits closed.
      const settled = await waitForQuiet(ctx.cluster, stats.users, 90_000, new Date(restored).toISOString());
      records.push({
        name: fault.name,
        heldSeconds: (restored - injected) / 1000,
        recoverySeconds,
        canaryFailures: canary.failures - canaryBefore,
        errors: diff(stats.errors, errorsBefore),
        nonRetryable: stats.nonRetryable.slice(nonRetryableBefore),
        afterCheck: settled.open,
        crashed: crashed.map((c) => `${c.name} (exit ${c.signal ?? c.code})`),
      });
    }
  } finally {
    await canary.stop();
    ctx.proxy.setDelay(0);
    if (ctx.databaseUrl || ctx.redisUrl) await ensureInfraUp();
  }
}
