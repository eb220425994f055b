import { baseConfigShape, env, personalTokenChecksumKeys, redisConfigShape } from '@callgate/common';
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

/** Token signature algorithms JWT_ALGORITHMS may name; `none` is not among them. */
const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;

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
    .optional()
    .describe(
      'HS256 key for access tokens (local use); at least 32 characters. Set exactly one of JWT_SECRET and JWT_JWKS_URL.',
    ),
  JWT_JWKS_URL: env
    .url()
    .optional()
    .describe(
      "The token issuer's JWKS (https): RS256/ES256 keys by `kid`, cached, refetched (at most 10 a minute) for an unknown `kid`, so rotation needs no restart.",
    ),
  JWT_ALGORITHMS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(JWT_ALGORITHMS)).min(1, 'name at least one algorithm'))
    .optional()
    .describe(
      'Accepted token algorithms, comma-separated (never `none`). Default: HS256 with JWT_SECRET, RS256,ES256 with JWT_JWKS_URL; HS* only with the secret.',
    ),
  JWT_ISSUER: z.string().min(1).default('callgate-local').describe('Required `iss` of access tokens.'),
  JWT_AUDIENCE: z.string().min(1).default('callgate').describe('Required `aud` of access tokens.'),
  AUTH_ISSUER: env
    .url()
    .optional()
    .describe(
      "The callgate auth service's issuer URL: listed in the protected resource metadata, its tokens (aud = this gateway's /mcp URL) accepted. Needs AUTH_SERVICE_ADDR.",
    ),
  AUTH_JWKS_URL: env.url().optional().describe("The auth service's JWKS. Default: AUTH_ISSUER/jwks."),
  AUTH_SERVICE_ADDR: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'expected host:port')
    .optional()
    .describe('gRPC address of the auth service: asked whether a token still stands, and for personal access tokens.'),
  PERSONAL_TOKEN_CHECKSUM_KEYS: personalTokenChecksumKeys
    .optional()
    .describe(
      "The auth service's PERSONAL_TOKEN_CHECKSUM_KEYS (the same value): personal access tokens whose keyed checksum does not verify are refused here, without asking the auth service. Required with AUTH_ISSUER. Secret.",
    ),
  AUTH_CHECK_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(300_000)
    .default(15_000)
    .describe(
      "How long the auth service's answer about a token is reused: a revoked grant, sign-out everywhere or deleted account is refused within this.",
    ),
  JWT_JWKS_COOLDOWN_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(600_000)
    .default(30_000)
    .describe(
      'After a JWKS fetch, how long a token naming a kid not in the set is refused without fetching again (keys are published before they sign, so a genuine kid is already there).',
    ),
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
  MCP_REQUEST_STATE_SECRET: z
    .string()
    .min(32, 'at least 32 characters')
    .optional()
    .describe(
      'Key that signs the requestState of multi-round tool calls (2026-07-28); every replica needs the same one. Unset: a random key per process (one replica only). Secret.',
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
    .describe(
      "A user's sessions (HTTP and WebSocket, counted from the moment one is requested): one more closes their least recently used open one, or gets 429 while all of theirs are still opening.",
    ),
  MCP_MAX_SESSIONS: z.coerce
    .number()
    .int()
    .min(1)
    .default(2000)
    .describe('Open sessions per replica (about 160 KB each); beyond this new ones get 503.'),
  MCP_MAX_WEBSOCKETS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .default(16)
    .describe(
      "A user's open WebSocket connections (about 230 KB each), counted from the upgrade until the socket closes; one more gets 429.",
    ),
  MCP_MAX_LISTEN_STREAMS_PER_USER: z.coerce
    .number()
    .int()
    .min(1)
    .default(8)
    .describe(
      "A user's open 2026-07-28 subscriptions/listen streams; one more gets 429. At most MCP_MAX_LISTEN_STREAMS.",
    ),
  MCP_MAX_LISTEN_URIS: z.coerce
    .number()
    .int()
    .min(1)
    .default(100)
    .describe(
      'Resource URIs one subscriptions/listen may name (each is checked against the user before the stream opens); more gets -32602.',
    ),
  MCP_MAX_LISTEN_STREAMS: z.coerce
    .number()
    .int()
    .min(1)
    .default(1024)
    .describe('Open subscriptions/listen streams per replica, all users together; beyond this new ones are refused.'),
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
  ...redisConfigShape,
  RATE_LIMIT_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .default(60)
    .describe(
      'MCP requests a user may send at once (the size of their bucket), HTTP and WebSocket together; beyond it they get 429.',
    ),
  RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(120)
    .describe("How fast a user's request bucket refills, in requests per minute; at most 60 × RATE_LIMIT_BURST."),
  RATE_LIMIT_CALL_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .default(10)
    .describe('makePhoneCall requests a user may send at once: a bucket of its own, in addition to the general one.'),
  RATE_LIMIT_CALL_PER_MINUTE: z.coerce
    .number()
    .int()
    .min(1)
    .default(20)
    .describe('How fast the makePhoneCall bucket refills, in calls per minute; at most 60 × RATE_LIMIT_CALL_BURST.'),
};

export type GatewayConfig = z.infer<z.ZodObject<typeof gatewayConfigShape>>;
