import {
  type Clock,
  ConfigError,
  checkRedis,
  checkServing,
  closeRedis,
  connectRedis,
  createServiceBase,
  listenHttp,
  periodic,
  redisReady,
  type ServiceHandle,
  startGrpcService,
} from '@callgate/common';
import { admissionCaps } from './admission-caps.js';
import { tokenSettingsFrom, userIdOf } from './auth.js';
import { authorizationServerTrust, withAuthorizationServer } from './authorization-server.js';
import { connectBackends } from './backends.js';
import { cachedBackends } from './cache/cached-backends.js';
import { invalidationBus } from './cache/invalidation-bus.js';
import { ReadCache } from './cache/read-cache.js';
import type { GatewayConfig } from './config.js';
import { readCatalog } from './docs/catalog.js';
import { listingBackends } from './docs/listing-backends.js';
import { buildOpenApi } from './docs/openapi.js';
import { createDocsHandler } from './docs/routes.js';
import { createPublicServer } from './http-server.js';
import { createMcpServer, SERVER_INFO, type ServerExtension } from './mcp-server.js';
import { guardProcess } from './process-guard.js';
import { RateLimits, rateLimitSettings } from './rate-limits.js';
import { requestStateCodec } from './request-state.js';
import { SessionRegistry } from './sessions.js';
import { CallSubscriptions } from './subscriptions.js';
import { toolDurations } from './tool-metrics.js';
import { SCOPES } from './tools/scopes.js';
import { createMcpHttpHandler } from './transports/http.js';
import { createModernHttpHandler } from './transports/modern-http.js';
import { SharedSessions } from './transports/shared-sessions.js';

export { mintToken } from './auth.js';
export { type GatewayConfig, gatewayConfigShape } from './config.js';
export type { ExtensionContext, ServerExtension } from './mcp-server.js';
export { CONSENTABLE_SCOPES, SCOPES, USER_SCOPES } from './tools/scopes.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

export interface GatewayOptions {
  /**
   * Registers more tools, resources or prompts on every MCP server the gateway creates, through the same
   * registry as its own (test harnesses only: the conformance suite's fixtures). Default: none.
   */
  extend?: ServerExtension;
  /**
   * Log and count unhandled promise rejections rather than exit (see process-guard.ts). For a process
   * the gateway owns (main.ts); test harnesses keep Node's default so such a bug fails them.
   */
  guardProcess?: boolean;
  /**
   * The clock by which the auth service's answers about tokens age (AUTH_CHECK_CACHE_MS). Tests move it to
   * show a revocation or a deleted account refused exactly at the bound. Default systemClock.
   */
  authCheckClock?: Clock;
}

/** Starts the MCP gateway: public HTTP/WebSocket server, gRPC clients to the services, ops endpoints. */
export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<ServiceHandle> {
  // Behind a load balancer the bind address says nothing about the URL clients use.
  if (!config.PUBLIC_BASE_URL && !LOOPBACK.test(config.BIND_HOST)) {
    throw new ConfigError('gateway', [
      {
        variable: 'PUBLIC_BASE_URL',
        message: `is required when BIND_HOST (${config.BIND_HOST}) is not a loopback address`,
      },
    ]);
  }
  // A ConfigError when a bucket would refill faster than in one second.
  const limits = rateLimitSettings(config);
  // A ConfigError when a user's listen streams could exceed the replica's.
  const caps = admissionCaps(config);
  const base = createServiceBase('gateway', config.LOG_LEVEL);
  // The callgate auth service when AUTH_ISSUER is set; besides it, at most one of JWT_SECRET and JWT_JWKS_URL
  // (exactly one without it), with algorithms that fit (a ConfigError otherwise).
  const authServer = authorizationServerTrust(
    config,
    () => `${publicBaseUrl()}/mcp`,
    base.metrics,
    options.authCheckClock,
  );
  const tokens = withAuthorizationServer(tokenSettingsFrom(config, { authServer: Boolean(authServer) }), authServer);
  const unguard = options.guardProcess ? guardProcess(base.log, base.metrics.registry) : undefined;
  // Per-user buckets in Redis when configured (shared by every replica), else in this process.
  // rate-limiter-flexible's RateLimiterRedis defines the Lua command `rlflxIncr` on the client it is given;
  // the rate limits define it as their token bucket, so no stock RateLimiterRedis may share this client.
  const redis = config.REDIS_URL
    ? connectRedis(config.REDIS_URL, base.log, {
        connectionName: 'callgate-gateway',
        meanwhile: 'rate limits fall back to per-process buckets',
      })
    : undefined;
  const rateLimits = new RateLimits({ ...limits, redis, registry: base.metrics.registry });
  const cache = new ReadCache(base.metrics.registry);
  const invalidations = invalidationBus(redis, cache, base.log);
  const backends = cachedBackends(connectBackends(config, base.metrics), cache, invalidations.publish);
  const sessions = new SessionRegistry({
    idleMs: config.MCP_SESSION_IDLE_MS,
    maxPerUser: config.MCP_MAX_SESSIONS_PER_USER,
    maxTotal: config.MCP_MAX_SESSIONS,
  });
  const requestState = requestStateCodec(config.MCP_REQUEST_STATE_SECRET);
  // Sessions of 2025-era clients in Redis when configured, so any replica continues them.
  const shared = new SharedSessions(redis, config.MCP_SESSION_IDLE_MS, base.log);
  sessions.onEvict = (id) => shared.delete(id);
  // newServer is called per session and per stateless request; the subscriptions exist once per replica.
  let subscriptions: CallSubscriptions | undefined;
  const toolTimer = toolDurations(base.metrics.registry);
  const newServer = () => createMcpServer({ backends, requestState, subscriptions, extend: options.extend, toolTimer });
  // Event streams over HTTP end when their token expires, as WebSockets do (closeAtTokenExpiry).
  const tokenExpiry = { toleranceSeconds: tokens.clockToleranceSeconds };
  const modern = createModernHttpHandler({
    newServer,
    maxBodyBytes: config.MCP_MAX_BODY_BYTES,
    log: base.log,
    mayWatch: async (uri, auth) => (subscriptions ? subscriptions.mayWatch(uri, userIdOf(auth)) : false),
    listenStreams: { perUser: caps.listenStreamsPerUser, total: caps.listenStreams },
    maxListenUris: config.MCP_MAX_LISTEN_URIS,
    tokenExpiry,
  });
  subscriptions = new CallSubscriptions(backends, base.log, modern.notify);
  // Every call change (a status, or its settlement) may move the user's balance.
  subscriptions.onChange((change) => cache.invalidate('balance', change.userId));
  subscriptions.share(shared, sessions);
  subscriptions.onReconnect(() => cache.clear('balance'));
  subscriptions.start();
  let httpPort = config.HTTP_PORT;
  const publicBaseUrl = () => config.PUBLIC_BASE_URL?.replace(/\/$/, '') ?? `http://${config.BIND_HOST}:${httpPort}`;
  const publicServer = createPublicServer({
    publicBaseUrl,
    authorizationServers: authServer ? [authServer.issuer] : [],
    allowedOriginHosts: config.MCP_ALLOWED_ORIGIN_HOSTS,
    tokens,
    sessions,
    websocketsPerUser: caps.websocketsPerUser,
    mcpHttp: createMcpHttpHandler({
      sessions,
      shared,
      subscriptions,
      newServer,
      modern,
      maxBodyBytes: config.MCP_MAX_BODY_BYTES,
      rateLimits,
      tokenExpiry,
      log: base.log,
    }),
    newServer,
    wsMaxFrameBytes: config.WS_MAX_FRAME_BYTES,
    wsPingIntervalMs: config.WS_PING_INTERVAL_MS,
    rateLimits,
    registry: base.metrics.registry,
    log: base.log,
    // Read from a server built like every session's (same registrations and extensions), so /docs is
    // what /mcp serves; its backends reach no service.
    docs: createDocsHandler({
      catalog: () =>
        readCatalog(createMcpServer({ backends: listingBackends(), requestState, extend: options.extend })),
      openapi: () => buildOpenApi({ baseUrl: publicBaseUrl(), serverInfo: SERVER_INFO, scopes: Object.values(SCOPES) }),
      log: base.log,
    }),
  });
  // Serve once Redis answers (or after 2 s without it), so first requests use the shared buckets.
  if (redis && !(await redisReady(redis, 2000))) base.log.warn('starting without Redis: per-process rate limits');
  httpPort = await listenHttp(publicServer.server, config.BIND_HOST, config.HTTP_PORT);
  const sweeper = periodic({
    name: 'mcp-session-sweep',
    intervalMs: Math.min(60_000, config.MCP_SESSION_IDLE_MS),
    log: base.log,
    registry: base.metrics.registry,
    run: () => sessions.sweep(),
  });

  // Reported, not critical: with a backend down the gateway still answers, with UNAVAILABLE and a hint.
  base.readiness.add('call-service', () => checkServing(backends.call.raw), { critical: false });
  base.readiness.add('credit-service', () => checkServing(backends.credit.raw), { critical: false });
  // Not critical either: without Redis each replica limits with its own buckets.
  if (redis) base.readiness.add('redis', () => checkRedis(redis), { critical: false });
  const mcpUrl = `${publicBaseUrl()}/mcp`;
  return startGrpcService({
    base,
    host: config.BIND_HOST,
    grpcPort: config.GRPC_PORT,
    opsPort: config.METRICS_PORT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    services: [],
    endpoints: { mcp: mcpUrl, websocket: mcpUrl.replace(/^http/, 'ws') },
    onStop: async () => {
      await sweeper.stop();
      const drained = publicServer.shutdown(config.SHUTDOWN_TIMEOUT_MS);
      // Ending sessions ends their SSE streams and sends WebSocket close frames, so clients leave.
      await sessions.closeAll();
      // Ends 2026-07-28 listen streams and in-flight per-request servers too.
      await modern.close();
      await subscriptions?.stop();
      await drained;
      backends.call.close();
      backends.credit.close();
      await invalidations.close();
      await shared.close();
      if (redis) await closeRedis(redis);
      unguard?.();
    },
  });
}
