import { baseConfigShape, env } from '@callgate/common';
import { z } from 'zod';

const list = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

export const gatewayConfigShape = {
  ...baseConfigShape,
  HTTP_PORT: env.port(8080).describe('Public MCP endpoint (/mcp over HTTP and WebSocket, /.well-known/...).'),
  // gRPC health only: the gateway serves no gRPC API, but answers the same probes as every service.
  GRPC_PORT: env.grpcPort(50050),
  METRICS_PORT: env.metricsPort(9101),
  CALL_SERVICE_ADDR: env.grpcAddress('127.0.0.1:50051', 'call'),
  CREDIT_SERVICE_ADDR: env.grpcAddress('127.0.0.1:50052', 'user-credit'),
  JWT_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .describe('HS256 key for access tokens; at least 32 characters.'),
  JWT_ISSUER: z.string().min(1).default('callgate-local').describe('Required `iss` of access tokens.'),
  JWT_AUDIENCE: z.string().min(1).default('callgate').describe('Required `aud` of access tokens.'),
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(300)
    .default(30)
    .describe('Tolerated clock difference when checking exp and nbf.'),
  PUBLIC_BASE_URL: env
    .url()
    .optional()
    .describe(
      "The gateway's public URL (behind the load balancer); used in OAuth metadata. Default: http://127.0.0.1:HTTP_PORT.",
    ),
  MCP_ALLOWED_ORIGIN_HOSTS: list('localhost,127.0.0.1,[::1]').describe(
    'Host names a browser Origin may have (any port). Requests without Origin are not browsers and pass.',
  ),
  MCP_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1_048_576)
    .describe('Largest POST body; larger ones get 413.'),
  MCP_SESSION_IDLE_MS: env.milliseconds(30 * 60_000).describe('Sessions with no request for this long are closed.'),
  MCP_MAX_SESSIONS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .default(16)
    .describe("A user's sessions (HTTP and WebSocket) beyond this close their least recently used one."),
  MCP_MAX_SESSIONS: z.coerce
    .number()
    .int()
    .min(1)
    .default(2000)
    .describe('Open sessions per replica (about 160 KB each); beyond this new ones get 503.'),
  WS_MAX_FRAME_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1_048_576)
    .describe('Largest WebSocket frame; larger ones close the connection with 1009.'),
  WS_PING_INTERVAL_MS: env
    .milliseconds(30_000)
    .describe('WebSocket ping interval; a connection that misses a pong is closed.'),
  GRPC_DEADLINE_MS: env.milliseconds(5000).describe('Deadline for each gRPC call the gateway makes.'),
};

export type GatewayConfig = z.infer<z.ZodObject<typeof gatewayConfigShape>>;
