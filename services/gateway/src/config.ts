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
  /** Public MCP endpoint (/mcp over HTTP and WebSocket, /.well-known/...). */
  HTTP_PORT: env.port(8080),
  /** gRPC health only: the gateway serves no gRPC API, but answers the same probes as every service. */
  GRPC_PORT: env.port(50050),
  METRICS_PORT: env.port(9101),
  CALL_SERVICE_ADDR: z.string().min(1).default('127.0.0.1:50051'),
  CREDIT_SERVICE_ADDR: z.string().min(1).default('127.0.0.1:50052'),
  /** HS256 key for access tokens; at least 32 characters. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  JWT_ISSUER: z.string().min(1).default('callgate-local'),
  JWT_AUDIENCE: z.string().min(1).default('callgate'),
  /** Tolerated clock difference when checking exp and nbf. */
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** The gateway's public URL (behind the load balancer); used in OAuth metadata. Default: http://127.0.0.1:HTTP_PORT. */
  PUBLIC_BASE_URL: env.url().optional(),
  /** Host names a browser Origin may have (any port). Requests without Origin are not browsers and pass. */
  MCP_ALLOWED_ORIGIN_HOSTS: list('localhost,127.0.0.1,[::1]'),
  MCP_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** Sessions with no request for this long are closed. */
  MCP_SESSION_IDLE_MS: env.milliseconds(30 * 60_000),
  WS_MAX_FRAME_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  WS_PING_INTERVAL_MS: env.milliseconds(30_000),
  /** Deadline for each gRPC call the gateway makes. */
  GRPC_DEADLINE_MS: env.milliseconds(5000),
};

export type GatewayConfig = z.infer<z.ZodObject<typeof gatewayConfigShape>>;
