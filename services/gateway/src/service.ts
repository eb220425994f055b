import {
  ConfigError,
  checkServing,
  createServiceBase,
  listenHttp,
  type ServiceHandle,
  startGrpcService,
} from '@callgate/common';
import { hmacKey } from './auth.js';
import { connectBackends } from './backends.js';
import type { GatewayConfig } from './config.js';
import { createPublicServer } from './http-server.js';
import { createMcpServer } from './mcp-server.js';
import { SessionRegistry } from './sessions.js';
import { createMcpHttpHandler } from './transports/http.js';

export { mintToken } from './auth.js';
export { type GatewayConfig, gatewayConfigShape } from './config.js';
export { SCOPES, USER_SCOPES } from './tools/scopes.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

/** Starts the MCP gateway: public HTTP/WebSocket server, gRPC clients to the services, ops endpoints. */
export async function startGateway(config: GatewayConfig): Promise<ServiceHandle> {
  // Behind a load balancer the bind address says nothing about the URL clients use.
  if (!config.PUBLIC_BASE_URL && !LOOPBACK.test(config.BIND_HOST)) {
    throw new ConfigError('gateway', [
      {
        variable: 'PUBLIC_BASE_URL',
        message: `is required when BIND_HOST (${config.BIND_HOST}) is not a loopback address`,
      },
    ]);
  }
  const base = createServiceBase('gateway', config.LOG_LEVEL);
  const backends = connectBackends(config, base.metrics);
  const sessions = new SessionRegistry({
    idleMs: config.MCP_SESSION_IDLE_MS,
    maxPerUser: config.MCP_MAX_SESSIONS_PER_USER,
    maxTotal: config.MCP_MAX_SESSIONS,
  });
  const newServer = () => createMcpServer(backends);
  let httpPort = config.HTTP_PORT;
  const publicBaseUrl = () => config.PUBLIC_BASE_URL?.replace(/\/$/, '') ?? `http://${config.BIND_HOST}:${httpPort}`;
  const publicServer = createPublicServer({
    publicBaseUrl,
    allowedOriginHosts: config.MCP_ALLOWED_ORIGIN_HOSTS,
    tokens: {
      key: hmacKey(config.JWT_SECRET),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
    },
    sessions,
    mcpHttp: createMcpHttpHandler({ sessions, newServer, maxBodyBytes: config.MCP_MAX_BODY_BYTES, log: base.log }),
    newServer,
    wsMaxFrameBytes: config.WS_MAX_FRAME_BYTES,
    wsPingIntervalMs: config.WS_PING_INTERVAL_MS,
    registry: base.metrics.registry,
    log: base.log,
  });
  httpPort = await listenHttp(publicServer.server, config.BIND_HOST, config.HTTP_PORT);
  const sweeper = setInterval(() => void sessions.sweep(), Math.min(60_000, config.MCP_SESSION_IDLE_MS));
  sweeper.unref();

  // Reported, not critical: with a backend down the gateway still answers, with UNAVAILABLE and a hint.
  base.readiness.add('call-service', () => checkServing(backends.call.raw), { critical: false });
  base.readiness.add('credit-service', () => checkServing(backends.credit.raw), { critical: false });
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
      clearInterval(sweeper);
      const drained = publicServer.shutdown(config.SHUTDOWN_TIMEOUT_MS);
      // Ending sessions ends their SSE streams and sends WebSocket close frames, so clients leave.
      await sessions.closeAll();
      await drained;
      backends.call.close();
      backends.credit.close();
    },
  });
}
