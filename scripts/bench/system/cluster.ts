/**
 * The whole system as production lays it out: every service in its own Node process (so each has its
 * own RSS and CPU, and one can be SIGKILLed without the others), the sandbox in its own process, and
 * the SQS emulator in the harness's. Ports are chosen once, so a restarted service comes back where
 * its clients look for it.
 *
 * Without DATABASE_URL each service gets its own embedded PGlite under dataDir/<service> (PGlite is
 * single-process, and each service owns its schema anyway); with it every service opens its own pool.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN } from '@callgate/sandbox';
import { type LocalSqs, startLocalSqs } from '../../local-sqs.js';
import { type ServerProcess, startProcess } from '../processes.js';

export const SERVICES = ['sandbox', 'user-credit', 'sheets-sync', 'call', 'poller', 'gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ClusterOptions {
  /** Folder for the embedded databases (one per service). */
  dataDir: string;
  /** Real PostgreSQL; undefined: embedded PGlite per service. */
  databaseUrl?: string;
  /** Real Redis; undefined: in-process buckets. */
  redisUrl?: string;
  /** Extra variables by service (sandbox timing, poll delays); applied last. */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /**
   * Where the sandbox sends Twilio's webhooks, when not straight to the call service (a delaying proxy
   * in the fault runs). The call service signs and checks callbacks against it (PUBLIC_BASE_URL).
   */
  publicWebhookUrl?: string;
}

export interface Ports {
  sandbox: number;
  webhook: number;
  http: number;
  grpc: Record<Exclude<ServiceName, 'sandbox'>, number>;
  ops: Record<Exclude<ServiceName, 'sandbox'>, number>;
}

/** A port free right now, reserved for a service for the whole run (restarts reuse it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

export class Cluster {
  readonly jwt = { secret: randomBytes(32).toString('base64url'), issuer: 'callgate-bench', audience: 'callgate' };
  private readonly processes = new Map<ServiceName, ServerProcess>();
  /** Processes that exited without being killed or stopped by the harness: a crash is a finding. */
  readonly crashes: { name: ServiceName; code: number | null; signal: string | null; at: number; tail: string }[] = [];
  private readonly expectedExits = new Set<number>();
  private fauxqs: LocalSqs | undefined;
  sqsEndpoint = '';
  readonly queueName = `callgate-bench-${randomBytes(4).toString('hex')}`;

  private constructor(
    readonly options: ClusterOptions,
    readonly ports: Ports,
  ) {}

  static async create(options: ClusterOptions): Promise<Cluster> {
    const names = ['user-credit', 'sheets-sync', 'call', 'poller', 'gateway'] as const;
    const grpc = {} as Ports['grpc'];
    const ops = {} as Ports['ops'];
    for (const name of names) {
      grpc[name] = await freePort();
      ops[name] = await freePort();
    }
    return new Cluster(options, {
      sandbox: await freePort(),
      webhook: await freePort(),
      http: await freePort(),
      grpc,
      ops,
    });
  }

  get mcpUrl(): string {
    return `http://127.0.0.1:${this.ports.http}/mcp`;
  }
  get sandboxUrl(): string {
    return `http://127.0.0.1:${this.ports.sandbox}`;
  }
  grpcAddress(name: Exclude<ServiceName, 'sandbox'>): string {
    return `127.0.0.1:${this.ports.grpc[name]}`;
  }
  opsUrl(name: Exclude<ServiceName, 'sandbox'>): string {
    return `http://127.0.0.1:${this.ports.ops[name]}`;
  }
  pid(name: ServiceName): number | undefined {
    const child = this.processes.get(name)?.child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }
  /** Every running process by name, for resource sampling. */
  pids(): Partial<Record<ServiceName, number>> {
    return Object.fromEntries(SERVICES.map((name) => [name, this.pid(name)]).filter(([, pid]) => pid));
  }

  /** The variables one service starts with: its ports, its neighbours, its database. */
  envFor(name: ServiceName): Record<string, string | undefined> {
    const { options, ports } = this;
    const storage = {
      DATABASE_URL: options.databaseUrl,
      // Each service its own embedded database: PGlite cannot be shared between processes.
      DATA_DIR: path.join(options.dataDir, name),
      REDIS_URL: options.redisUrl,
    };
    const sqs = {
      SQS_ENDPOINT: this.sqsEndpoint,
      SQS_QUEUE_NAME: this.queueName,
      SQS_DLQ_NAME: `${this.queueName}-dlq`,
    };
    const carrier = { TWILIO_ACCOUNT_SID: SANDBOX_ACCOUNT_SID, TWILIO_AUTH_TOKEN: SANDBOX_AUTH_TOKEN };
    const base: Record<ServiceName, Record<string, string | undefined>> = {
      sandbox: { SANDBOX_PORT: String(ports.sandbox), ...carrier },
      'user-credit': {
        ...storage,
        GRPC_PORT: String(ports.grpc['user-credit']),
        METRICS_PORT: String(ports.ops['user-credit']),
      },
      'sheets-sync': {
        ...storage,
        GRPC_PORT: String(ports.grpc['sheets-sync']),
        METRICS_PORT: String(ports.ops['sheets-sync']),
        GOOGLE_SHEETS_API_URL: this.sandboxUrl,
        GOOGLE_SHEETS_ID: 'callgate-bench',
      },
      call: {
        ...storage,
        ...sqs,
        ...carrier,
        GRPC_PORT: String(ports.grpc.call),
        METRICS_PORT: String(ports.ops.call),
        WEBHOOK_PORT: String(ports.webhook),
        PUBLIC_BASE_URL: options.publicWebhookUrl ?? `http://127.0.0.1:${ports.webhook}`,
        CREDIT_SERVICE_ADDR: this.grpcAddress('user-credit'),
        SHEETS_SERVICE_ADDR: this.grpcAddress('sheets-sync'),
        TWILIO_API_BASE_URL: this.sandboxUrl,
      },
      poller: {
        ...storage,
        ...sqs,
        GRPC_PORT: String(ports.grpc.poller),
        METRICS_PORT: String(ports.ops.poller),
        CALL_SERVICE_ADDR: this.grpcAddress('call'),
        // On a shared PostgreSQL the sweep would refresh other people's calls, which this sandbox does not know.
        SWEEP_ENABLED: options.databaseUrl ? 'false' : 'true',
      },
      gateway: {
        REDIS_URL: options.redisUrl,
        HTTP_PORT: String(ports.http),
        GRPC_PORT: String(ports.grpc.gateway),
        METRICS_PORT: String(ports.ops.gateway),
        CALL_SERVICE_ADDR: this.grpcAddress('call'),
        CREDIT_SERVICE_ADDR: this.grpcAddress('user-credit'),
        JWT_SECRET: this.jwt.secret,
        JWT_ISSUER: this.jwt.issuer,
        JWT_AUDIENCE: this.jwt.audience,
      },
    };
    return { ...base[name], ...(options.env?.[name] ?? {}) };
  }

  /** Starts the SQS emulator and every service, in dependency order. */
  async start(): Promise<void> {
    this.fauxqs = await startLocalSqs();
    this.sqsEndpoint = this.fauxqs.address;
    for (const name of SERVICES) await this.startOne(name);
  }

  async startOne(name: ServiceName): Promise<void> {
    // The parent's own settings must not leak into a service (ports, a JWT key, the other mode's database).
    const {
      GRPC_PORT: _g,
      METRICS_PORT: _m,
      HTTP_PORT: _h,
      JWT_SECRET: _j,
      DATABASE_URL: _d,
      REDIS_URL: _r,
      ...inherited
    } = process.env;
    const env = { ...inherited, LOG_LEVEL: process.env.SYSTEM_LOG_LEVEL || 'info', ...this.envFor(name) };
    const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    // startProcess spreads process.env under what it is given: blank out what must not be inherited.
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET']) defined[key] ??= '';
    const ready = new RegExp(`"msg":"${name} started"`);
    const p = await startProcess(`services/${name}/src/main.ts`, ready, defined, 120_000);
    // SYSTEM_LOG_DIR=dir: every service's whole log appended to dir/<service>.log (restarts included).
    if (process.env.SYSTEM_LOG_DIR) {
      const file = createWriteStream(path.join(process.env.SYSTEM_LOG_DIR, `${name}.log`), { flags: 'a' });
      file.write(`${p.output.join('\n')}\n`);
      p.child.stdout?.pipe(file);
    }
    // A service's log is kept only as long as it is useful for a failure message.
    p.child.stdout?.on('data', () => {
      if (p.output.length > 2000) p.output.splice(0, p.output.length - 500);
    });
    p.child.once('exit', (code, signal) => {
      if (p.child.pid !== undefined && this.expectedExits.has(p.child.pid)) return;
      this.crashes.push({ name, code, signal, at: Date.now(), tail: p.output.slice(-5).join('\n') });
    });
    this.processes.set(name, p);
  }

  /** SIGKILL, no drain: what a crashed container or an OOM kill does. Resolves once the process is gone. */
  async kill(name: ServiceName): Promise<void> {
    const child = this.processes.get(name)?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    if (child.pid !== undefined) this.expectedExits.add(child.pid);
    child.kill('SIGKILL');
    await gone;
  }

  /** The last lines a service printed (for a failure message). */
  tail(name: ServiceName, lines = 20): string {
    return (this.processes.get(name)?.output ?? []).slice(-lines).join('\n');
  }

  /** Graceful stop of every service (reverse order), then the emulator. */
  async stop(): Promise<void> {
    for (const name of [...SERVICES].reverse()) {
      const p = this.processes.get(name);
      if (!p) continue;
      if (p.child.pid !== undefined) this.expectedExits.add(p.child.pid);
      const stopped = p.stop();
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
      await stopped;
      clearTimeout(timer);
    }
    this.processes.clear();
    await this.fauxqs?.stop();
    this.fauxqs = undefined;
  }
}
