/**
 * The whole system in one process, as `npm start` and the end-to-end tests run it: every service
 * on its own 127.0.0.1 gRPC port, talking real gRPC; one embedded PGlite shared in-process (or
 * PostgreSQL when DATABASE_URL is set); the SQS emulator fauxqs in-process; the sandbox for Twilio
 * and Google Sheets; and, when asked, the web console's static host (scripts/console-host).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { authConfigShape, startAuthService } from '@callgate/auth';
import { callConfigShape, startCallService } from '@callgate/call';
import {
  createLogger,
  type Database,
  loadConfig,
  openDatabase,
  PgliteDatabase,
  type ServiceHandle,
  startTracing,
  withQuerySpans,
} from '@callgate/common';
import { type GatewayOptions, gatewayConfigShape, startGateway } from '@callgate/gateway';
import { pollerConfigShape, startPollerService } from '@callgate/poller';
import {
  SANDBOX_ACCOUNT_SID,
  SANDBOX_AUTH_TOKEN,
  SANDBOX_PERSONAS,
  sandboxConfigShape,
  startSandbox,
} from '@callgate/sandbox';
import { sheetsSyncConfigShape, startSheetsSyncService } from '@callgate/sheets-sync';
import { startUserCreditService, userCreditConfigShape } from '@callgate/user-credit';
import { type ConsoleConfig, type ConsoleHost, startConsoleHost } from './console-host/host.js';
import { type LocalSqs, startLocalSqs } from './local-sqs.js';

export interface LocalSystemOptions {
  /** Environment the services read (default process.env). Per-service ports are set here, not read from it. */
  env?: Record<string, string | undefined>;
  /** 'default' uses the documented ports; 'ephemeral' lets the OS pick (tests run side by side). */
  ports?: 'default' | 'ephemeral';
  /** Embedded database folder; undefined with ephemeral ports means an in-memory database. */
  dataDir?: string;
  /** The gateway's HTTP port, whatever the port mode (npm start passes HTTP_PORT). */
  httpPort?: string;
  /** Passed to the gateway (e.g. `extend`, with which a test harness registers fixtures). Default: none. */
  gateway?: GatewayOptions;
  /**
   * Serve the web console's build from this folder (console/dist): on port 8083 (the default origin of
   * AUTH_CONSOLE_REDIRECT_URIS), or one the OS picks with ephemeral ports; its <origin>/callback becomes
   * a redirect URI of the console client. Default: no console.
   */
  console?: { root: string };
}

export interface LocalSystem {
  services: ServiceHandle[];
  /** gRPC address of each service by name. */
  grpc: Record<string, string>;
  mcpUrl: string;
  /** The authorization server's issuer URL (sign-in pages, OAuth endpoints). */
  authUrl: string;
  /** The sandbox's mail catcher page (account mail the auth service sent). */
  mailUrl: string;
  /** The web console (when options.console was given). */
  consoleUrl: string | undefined;
  sqsEndpoint: string | undefined;
  /** The S3 endpoint recordings are stored at (the emulator in local runs). */
  s3Endpoint: string | undefined;
  jwt: { secret: string; issuer: string; audience: string };
  stop(): Promise<void>;
}

const PORT_VARIABLES = ['GRPC_PORT', 'METRICS_PORT', 'HTTP_PORT', 'SANDBOX_PORT', 'WEBHOOK_PORT'];

/**
 * A local secret: the variable if set, else one generated once and kept under the data folder (so
 * `npm start` keeps its tokens across restarts), or a fresh one per run without a folder (tests).
 */
function localSecret(
  env: Record<string, string | undefined>,
  variable: string,
  dataDir: string | undefined,
  fileName: string,
  generate: () => string,
): string {
  const set = env[variable];
  if (set) return set;
  if (!dataDir) return generate();
  const file = path.join(dataDir, fileName);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const secret = generate();
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}

/** The JWT key for local runs: JWT_SECRET if set, else one generated once and kept under .data/. */
export function localJwtSecret(env: Record<string, string | undefined>, dataDir: string | undefined): string {
  return localSecret(env, 'JWT_SECRET', dataDir, 'dev-jwt-secret', () => randomBytes(32).toString('base64url'));
}

/**
 * The key of personal access tokens' checksum, which the auth service and the gateway share:
 * PERSONAL_TOKEN_CHECKSUM_KEYS if set, else generated once and kept under .data/ (per run in tests).
 */
export function localPersonalTokenKeys(env: Record<string, string | undefined>, dataDir: string | undefined): string {
  return localSecret(env, 'PERSONAL_TOKEN_CHECKSUM_KEYS', dataDir, 'dev-personal-token-key', () =>
    randomBytes(32).toString('hex'),
  );
}

export async function startLocalSystem(options: LocalSystemOptions = {}): Promise<LocalSystem> {
  const ephemeral = options.ports === 'ephemeral';
  const inherited = Object.fromEntries(
    Object.entries(options.env ?? process.env).filter(([key]) => !PORT_VARIABLES.includes(key)),
  );
  const dataDir = options.dataDir ?? (ephemeral ? undefined : (inherited.DATA_DIR ?? '.data'));
  const log = createLogger('local', inherited.LOG_LEVEL ?? 'info');
  // Exports when OTEL_EXPORTER_OTLP_ENDPOINT is set (unless the caller, e.g. a test, configured tracing first).
  startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: inherited.OTEL_EXPORTER_OTLP_ENDPOINT }, 'callgate-local');
  const jwt = {
    secret: localJwtSecret(inherited, dataDir),
    issuer: inherited.JWT_ISSUER ?? 'callgate-local',
    audience: inherited.JWT_AUDIENCE ?? 'callgate',
  };
  const personalTokenKeys = localPersonalTokenKeys(inherited, dataDir);
  const port = (fallback: string) => (ephemeral ? '0' : fallback);
  const handles: ServiceHandle[] = [];
  const grpc: Record<string, string> = {};
  let shared: Database | undefined;
  let fauxqs: LocalSqs | undefined;
  let consoleHost: ConsoleHost | undefined;

  // Stops everything even when one part fails to stop, then reports what failed.
  const stop = async () => {
    const failures: unknown[] = [];
    const attempt = async (fn: () => Promise<void> | undefined) => {
      try {
        await fn();
      } catch (error) {
        failures.push(error);
      }
    };
    for (const handle of [...handles].reverse()) await attempt(() => handle.stop());
    await attempt(() => consoleHost?.stop());
    await attempt(() => fauxqs?.stop());
    await attempt(() => shared?.close());
    if (failures.length) throw new AggregateError(failures, `${failures.length} part(s) failed to stop`);
  };

  try {
    // One embedded database for all services (PGlite is single-process); with DATABASE_URL each service opens its own pool.
    const database = async (name: string) => {
      if (inherited.DATABASE_URL) {
        return {
          db: await openDatabase({ url: inherited.DATABASE_URL, dataDir: '.data', log, applicationName: name }),
          ownsDb: true,
        };
      }
      shared ??= withQuerySpans(await PgliteDatabase.open(dataDir ? path.join(dataDir, 'pglite') : undefined));
      return { db: shared, ownsDb: false };
    };
    const envFor = (extra: Record<string, string>) => ({ ...inherited, ...extra });
    const remember = (handle: ServiceHandle) => {
      handles.push(handle);
      if (handle.grpcPort) grpc[handle.name] = `127.0.0.1:${handle.grpcPort}`;
      return handle;
    };

    // Real Twilio credentials (and no base URL) mean real calls; otherwise the sandbox plays the carrier.
    const realTwilio = Boolean(inherited.TWILIO_ACCOUNT_SID && inherited.TWILIO_AUTH_TOKEN);
    const carrierAccount = {
      TWILIO_ACCOUNT_SID: realTwilio ? (inherited.TWILIO_ACCOUNT_SID as string) : SANDBOX_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: realTwilio ? (inherited.TWILIO_AUTH_TOKEN as string) : SANDBOX_AUTH_TOKEN,
    };
    const sandbox = remember(
      await startSandbox(
        loadConfig('sandbox', sandboxConfigShape, envFor({ SANDBOX_PORT: port('8090'), ...carrierAccount })),
      ),
    );

    let sqsEndpoint = inherited.SQS_ENDPOINT;
    // fauxqs serves SQS and S3: started when either has no endpoint of its own (S3 unset and no bucket named
    // means a local run, whose recordings go to the emulator's bucket; the call service creates it).
    const localSqs = !sqsEndpoint && !inherited.SQS_QUEUE_URL;
    const localS3 = !inherited.S3_ENDPOINT && !inherited.RECORDINGS_BUCKET;
    if (localSqs || localS3) fauxqs = await startLocalSqs();
    if (localSqs) sqsEndpoint = fauxqs?.address;
    const s3Endpoint = inherited.S3_ENDPOINT ?? (localS3 ? fauxqs?.address : undefined);

    remember(
      await startUserCreditService(
        loadConfig(
          'user-credit',
          userCreditConfigShape,
          envFor({ GRPC_PORT: port('50052'), METRICS_PORT: port('9103') }),
        ),
        await database('user-credit'),
      ),
    );
    remember(
      await startSheetsSyncService(
        loadConfig(
          'sheets-sync',
          sheetsSyncConfigShape,
          envFor({
            GRPC_PORT: port('50053'),
            METRICS_PORT: port('9104'),
            // A real spreadsheet id (with credentials) writes to Google; otherwise the sandbox plays Sheets.
            ...(inherited.GOOGLE_SHEETS_ID
              ? {}
              : { GOOGLE_SHEETS_API_URL: sandbox.endpoints.sheets as string, GOOGLE_SHEETS_ID: 'callgate-local' }),
          }),
        ),
        await database('sheets-sync'),
      ),
    );
    remember(
      await startCallService(
        loadConfig(
          'call',
          callConfigShape,
          envFor({
            GRPC_PORT: port('50051'),
            METRICS_PORT: port('9102'),
            WEBHOOK_PORT: port('8081'),
            CREDIT_SERVICE_ADDR: grpc['user-credit'] as string,
            SHEETS_SERVICE_ADDR: grpc['sheets-sync'] as string,
            ...carrierAccount,
            ...(realTwilio ? {} : { TWILIO_API_BASE_URL: sandbox.endpoints.twilio as string }),
            ...(sqsEndpoint ? { SQS_ENDPOINT: sqsEndpoint } : {}),
            ...(s3Endpoint ? { S3_ENDPOINT: s3Endpoint } : {}),
            // Webhook receivers on this machine (a test's, a developer's) over http; refused in production.
            ...(sqsEndpoint && !realTwilio ? { WEBHOOK_LOCAL_MODE: inherited.WEBHOOK_LOCAL_MODE ?? 'true' } : {}),
          }),
        ),
        await database('call'),
      ),
    );
    remember(
      await startPollerService(
        loadConfig(
          'poller',
          pollerConfigShape,
          envFor({
            GRPC_PORT: port('50054'),
            METRICS_PORT: port('9105'),
            CALL_SERVICE_ADDR: grpc.call as string,
            // Ephemeral systems (tests, benchmarks) share one database with other systems, whose calls their
            // sandbox does not know: they sweep only when asked, so a sweep never refreshes another system's calls.
            SWEEP_ENABLED: inherited.SWEEP_ENABLED ?? (ephemeral ? 'false' : 'true'),
            ...(sqsEndpoint ? { SQS_ENDPOINT: sqsEndpoint } : {}),
          }),
        ),
        await database('poller'),
      ),
    );
    // The gateway's URL is known once it listens: auth reads it per request, as the resource its tokens are for.
    let mcpUrl = '';
    let issuer = '';
    let clientId = '';
    // The console listens before auth, whose client registration needs the console's redirect URI; it
    // reads the gateway's and auth's URLs per request, as they are known only later.
    const consoleConfig = (): ConsoleConfig | undefined =>
      mcpUrl && issuer
        ? {
            mcpUrl,
            issuer,
            clientId,
            sandboxPersonas: realTwilio ? null : SANDBOX_PERSONAS.map((p) => ({ ...p })),
            // Pre-signed recording URLs point at the S3 endpoint (path-style), or at the bucket's regional
            // AWS endpoint (virtual-hosted) when a real bucket is named: the console plays them from there.
            mediaOrigins: s3Endpoint
              ? [s3Endpoint]
              : inherited.RECORDINGS_BUCKET
                ? [`https://${inherited.RECORDINGS_BUCKET}.s3.${inherited.AWS_REGION ?? 'us-east-1'}.amazonaws.com`]
                : [],
          }
        : undefined;
    if (options.console) {
      consoleHost = await startConsoleHost({
        root: options.console.root,
        port: Number(port('8083')),
        config: consoleConfig,
      });
    }
    // The user's own redirect URIs (e.g. a Vite dev server) stay; the served console's is added.
    const consoleRedirectUris = [
      ...(inherited.AUTH_CONSOLE_REDIRECT_URIS ? [inherited.AUTH_CONSOLE_REDIRECT_URIS] : []),
      ...(consoleHost ? [consoleHost.redirectUri] : []),
    ];
    const authConfig = loadConfig(
      'auth',
      authConfigShape,
      envFor({
        HTTP_PORT: port('8082'),
        GRPC_PORT: port('50055'),
        METRICS_PORT: port('9106'),
        AUTH_LOCAL_MODE: 'true',
        PERSONAL_TOKEN_CHECKSUM_KEYS: personalTokenKeys,
        ...(consoleRedirectUris.length ? { AUTH_CONSOLE_REDIRECT_URIS: consoleRedirectUris.join(',') } : {}),
        // Account mail goes to the sandbox's SES stand-in unless a real SES endpoint is configured.
        MAIL_SES_ENDPOINT: inherited.MAIL_SES_ENDPOINT ?? (sandbox.endpoints.ses as string),
      }),
    );
    clientId = authConfig.AUTH_CONSOLE_CLIENT_ID;
    const auth = remember(
      await startAuthService(authConfig, { ...(await database('auth')), resource: () => mcpUrl, dataDir }),
    );
    const gateway = remember(
      await startGateway(
        loadConfig(
          'gateway',
          gatewayConfigShape,
          envFor({
            HTTP_PORT: options.httpPort ?? port('8080'),
            GRPC_PORT: port('50050'),
            METRICS_PORT: port('9101'),
            CALL_SERVICE_ADDR: grpc.call as string,
            CREDIT_SERVICE_ADDR: grpc['user-credit'] as string,
            // With an identity provider's JWKS the local secret is not used (the gateway takes exactly one).
            ...(inherited.JWT_JWKS_URL ? {} : { JWT_SECRET: jwt.secret }),
            JWT_ISSUER: jwt.issuer,
            JWT_AUDIENCE: jwt.audience,
            AUTH_ISSUER: auth.endpoints.issuer as string,
            AUTH_SERVICE_ADDR: grpc.auth as string,
            PERSONAL_TOKEN_CHECKSUM_KEYS: personalTokenKeys,
          }),
        ),
        options.gateway,
      ),
    );
    mcpUrl = gateway.endpoints.mcp as string;
    issuer = auth.endpoints.issuer as string;
    return {
      services: handles,
      grpc,
      mcpUrl,
      authUrl: auth.endpoints.issuer as string,
      mailUrl: sandbox.endpoints.mail as string,
      consoleUrl: consoleHost?.origin,
      sqsEndpoint,
      s3Endpoint,
      jwt,
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
