import { fileURLToPath } from 'node:url';
import {
  closeHttp,
  createServiceBase,
  listenHttp,
  type Periodic,
  PersonalTokenFormat,
  periodic,
  type ServiceDeps,
  type ServiceHandle,
  startGrpcService,
  systemClock,
} from '@callgate/common';
import { AccountDeletion } from './account-deletion.js';
import { Accounts } from './accounts.js';
import { sweepExpired } from './adapter.js';
import { AttemptLimits } from './attempt-limits.js';
import { clientMetadataFetch } from './client-metadata-fetch.js';
import type { AuthConfig } from './config.js';
import { Csrf } from './csrf.js';
import { Grants } from './grants.js';
import { clientAddressOf, createAuthHttpServer } from './http-app.js';
import { loadKeys } from './keys.js';
import { KnownDevices } from './known-devices.js';
import { sesSender, startMailDrainer } from './mail-outbox.js';
import { PersonalTokens } from './personal-tokens.js';
import { CONSOLE_CLIENT_NAME, createProvider } from './provider.js';
import { authGrpcService } from './server.js';
import { upstreamProvidersOf } from './upstream-config.js';
import { UpstreamIdentities } from './upstream-identities.js';
import { UpstreamSignIn } from './upstream-sign-in.js';

export { type AuthConfig, authConfigShape } from './config.js';
export { PERSONAL_TOKEN_PREFIX } from './personal-tokens.js';
export { DEFAULT_SCOPES, RESOURCE_SCOPES, USER_SCOPES as PERSONAL_TOKEN_SCOPES } from './scopes.js';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/** The clock (default systemClock) times tokens, links, limits, the outbox and the background jobs. */
export interface AuthDeps extends ServiceDeps {
  /** The gateway's MCP URL when only known later (ephemeral ports); else AUTH_RESOURCE_URL. */
  resource?: () => string;
  /** Where local-mode keys are kept; undefined keeps them in memory. Default DATA_DIR. */
  dataDir?: string | undefined;
}

/** Starts the auth service: the OAuth authorization server (public HTTP), its gRPC API for the gateway, ops endpoints. */
export async function startAuthService(config: AuthConfig, deps: AuthDeps): Promise<ServiceHandle> {
  const keys = loadKeys(config, 'dataDir' in deps ? deps.dataDir : config.DATA_DIR);
  const upstreamProviders = upstreamProvidersOf(config);
  const fetchClientMetadata = clientMetadataFetch(config);
  const base = createServiceBase('auth', config.LOG_LEVEL);
  const clock = deps.clock ?? systemClock;
  const resource = deps.resource ?? (() => config.AUTH_RESOURCE_URL ?? 'http://127.0.0.1:8080/mcp');
  let issuer = config.AUTH_ISSUER?.replace(/\/$/, '') ?? '';
  const limits = new AttemptLimits({
    db: deps.db,
    clock,
    perAddressPerHour: config.AUTH_SIGN_INS_PER_IP_PER_HOUR,
    perAccountPerHour: config.AUTH_SIGN_INS_PER_ACCOUNT_PER_HOUR,
    registrationsPerHour: config.AUTH_REGISTRATIONS_PER_IP_PER_HOUR,
  });
  let mail: ReturnType<typeof startMailDrainer> | undefined;
  const accounts = new Accounts({
    db: deps.db,
    clock,
    limits,
    issuer: () => issuer,
    maxFailedSignIns: config.AUTH_MAX_FAILED_SIGN_INS,
    lockoutSeconds: config.AUTH_LOCKOUT_SECONDS,
    // A failed pass is logged and counted by the drain job itself; the next one retries.
    mailWritten: () => void mail?.drain().catch(() => undefined),
  });
  const personalTokens = new PersonalTokens(
    deps.db,
    clock,
    new PersonalTokenFormat(config.PERSONAL_TOKEN_CHECKSUM_KEYS),
  );
  const accountDeletion = new AccountDeletion({
    db: deps.db,
    clock,
    limits,
    mailWritten: () => void mail?.drain().catch(() => undefined),
  });
  const clientAddress = clientAddressOf(config.AUTH_TRUST_PROXY);
  const upstream = new UpstreamSignIn({
    providers: upstreamProviders,
    db: deps.db,
    clock,
    issuer: () => issuer,
    localMode: config.AUTH_LOCAL_MODE,
    log: base.log,
  });
  const http = createAuthHttpServer({
    pages: {
      accounts,
      accountDeletion,
      personalTokens,
      csrf: new Csrf(keys.cookies[0] as string, !config.AUTH_LOCAL_MODE),
      devices: new KnownDevices(keys.cookies[0] as string, !config.AUTH_LOCAL_MODE),
      clientAddress,
      limits,
      upstream,
      upstreamIdentities: new UpstreamIdentities(deps.db, clock, () => void mail?.drain().catch(() => undefined)),
    },
    mayRegister: (address) => limits.take('registration', address),
    registry: base.metrics.registry,
    log: base.log,
  });
  let sweeper: Periodic<unknown> | undefined;
  const handle = await startGrpcService({
    base,
    host: config.BIND_HOST,
    grpcPort: config.GRPC_PORT,
    opsPort: config.METRICS_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    services: [
      authGrpcService({
        db: deps.db,
        personalTokens,
        grants: new Grants(deps.db, clock, { [config.AUTH_CONSOLE_CLIENT_ID]: CONSOLE_CLIENT_NAME }),
      }),
    ],
    database: { db: deps.db, schema: 'auth', migrationsDir: MIGRATIONS, close: deps.ownsDb },
    onStop: async () => {
      await sweeper?.stop();
      await mail?.stop();
      await closeHttp(http.server);
    },
  });
  try {
    const httpPort = await listenHttp(http.server, config.BIND_HOST, config.HTTP_PORT);
    issuer ||= `http://${config.BIND_HOST}:${httpPort}`;
    http.setProvider(
      createProvider({
        issuer,
        resource,
        keys,
        db: deps.db,
        accounts,
        clock,
        accessTokenTtlSeconds: config.AUTH_ACCESS_TOKEN_TTL_SECONDS,
        refreshTokenTtlSeconds: config.AUTH_REFRESH_TOKEN_TTL_SECONDS,
        unusedClientSeconds: config.AUTH_UNUSED_CLIENT_SECONDS,
        localMode: config.AUTH_LOCAL_MODE,
        fetch: fetchClientMetadata,
        consoleClient: { clientId: config.AUTH_CONSOLE_CLIENT_ID, redirectUris: config.AUTH_CONSOLE_REDIRECT_URIS },
        trustProxy: config.AUTH_TRUST_PROXY,
        log: base.log,
      }),
    );
    mail = startMailDrainer({
      db: deps.db,
      sender: sesSender({ region: config.AWS_REGION, endpoint: config.MAIL_SES_ENDPOINT }),
      from: config.MAIL_FROM,
      intervalMs: config.MAIL_DRAIN_INTERVAL_MS,
      clock,
      log: base.log,
      registry: base.metrics.registry,
    });
    if (config.AUTH_SEED_ACCOUNT) {
      const at = config.AUTH_SEED_ACCOUNT.indexOf(':');
      await accounts.seed(config.AUTH_SEED_ACCOUNT.slice(0, at), config.AUTH_SEED_ACCOUNT.slice(at + 1));
    }
    // Expired codes, sessions and interactions, registered clients nobody used, and old attempt
    // windows go once a minute.
    sweeper = periodic({
      name: 'auth-sweep',
      intervalMs: 60_000,
      jitter: 0.1,
      log: base.log,
      registry: base.metrics.registry,
      clock,
      run: () => Promise.all([sweepExpired(deps.db, clock.date()), limits.sweep(), accounts.sweep(), upstream.sweep()]),
    });
    base.log.info(
      { issuer, resource: resource(), upstreamProviders: upstreamProviders.map((p) => p.id) },
      'authorization server listening',
    );
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return {
    ...handle,
    endpoints: { issuer, jwks: `${issuer}/jwks` },
  };
}
