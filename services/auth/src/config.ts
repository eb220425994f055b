import { baseConfigShape, databaseConfigShape, env, personalTokenChecksumKeys } from '@callgate/common';
import { z } from 'zod';
import { upstreamClientSecretsSchema, upstreamProvidersSchema } from './upstream-config.js';

const seconds = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const authConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  GRPC_PORT: env.grpcPort(50055),
  METRICS_PORT: env.metricsPort(9106),
  HTTP_PORT: env
    .port(8082)
    .describe('The authorization server: OAuth endpoints, /.well-known/oauth-authorization-server, sign-in pages.'),
  AUTH_ISSUER: env
    .url()
    .optional()
    .describe(
      "The authorization server's public URL, its `iss` (behind the load balancer). Default: http://127.0.0.1:HTTP_PORT.",
    ),
  AUTH_RESOURCE_URL: env
    .url()
    .optional()
    .describe(
      "The gateway's MCP URL (its PUBLIC_BASE_URL + /mcp): the one resource tokens are issued for (`aud`). Default: http://127.0.0.1:8080/mcp.",
    ),
  AUTH_LOCAL_MODE: env
    .bool(false)
    .describe(
      'Local runs only: generates and keeps signing and cookie keys under DATA_DIR (in production AUTH_SIGNING_KEYS and AUTH_COOKIE_SECRETS are required) and sets cookies without Secure (plain http on 127.0.0.1).',
    ),
  AUTH_CIMD_EXTRA_CA_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Local mode only (refused otherwise): a PEM CA certificate trusted, besides the public roots, when fetching a Client ID Metadata Document from a loopback https URL (a client beside `npm start` serving its document with a self-signed certificate).',
    ),
  AUTH_SIGNING_KEYS: z
    .string()
    .optional()
    .describe(
      'Private signing keys as a JWKS (JSON {"keys": [...]}, ES256 or RS256, each with a kid); the first signs, all are published. Required unless AUTH_LOCAL_MODE. Secret.',
    ),
  AUTH_COOKIE_SECRETS: z
    .string()
    .optional()
    .describe(
      'Comma-separated keys (32+ characters each) that sign cookies; the first signs, all verify (rotation). Required unless AUTH_LOCAL_MODE. Secret.',
    ),
  PERSONAL_TOKEN_CHECKSUM_KEYS: personalTokenChecksumKeys.describe(
    "Comma-separated keys (32+ characters each) of the keyed checksum in personal access tokens, the same value as the gateway's: the first signs new tokens, all verify (rotation). Required. `npm start` and the tests generate one. Secret.",
  ),
  AUTH_ACCESS_TOKEN_TTL_SECONDS: seconds(600, 60, 3600).describe('Lifetime of access tokens (JWTs for the gateway).'),
  AUTH_REFRESH_TOKEN_TTL_SECONDS: seconds(30 * 86400, 3600, 365 * 86400).describe(
    'Lifetime of a refresh token chain; each refresh rotates the token.',
  ),
  AUTH_CONSOLE_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, dot, dash or underscore')
    .default('callgate-console')
    .describe('Client id of the pre-registered public client (the console).'),
  AUTH_CONSOLE_REDIRECT_URIS: z
    .string()
    .default('http://127.0.0.1:8083/callback')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url()).min(1))
    .describe('Comma-separated redirect URIs of the console client.'),
  AUTH_SEED_ACCOUNT: z
    .string()
    .regex(/^[^\s:]+@[^\s:]+:.{12,}$/, 'email:password, the password at least 12 characters')
    .optional()
    .describe('Local runs: an account created (verified) at start as email:password, if it does not exist.'),
  AUTH_MAX_FAILED_SIGN_INS: z.coerce
    .number()
    .int()
    .min(3)
    .max(100)
    .default(10)
    .describe(
      'Wrong passwords in a row from one client address that lock that address (only) out of the account for AUTH_LOCKOUT_SECONDS.',
    ),
  AUTH_LOCKOUT_SECONDS: seconds(900, 60, 86400).describe(
    'How long an address locked out of an account stays locked (a password reset ends it).',
  ),
  AUTH_SIGN_INS_PER_IP_PER_HOUR: z.coerce
    .number()
    .int()
    .min(5)
    .default(100)
    .describe('Sign-in, sign-up and reset attempts one client address may make per hour.'),
  AUTH_SIGN_INS_PER_ACCOUNT_PER_HOUR: z.coerce
    .number()
    .int()
    .min(3)
    .default(30)
    .describe(
      'Wrong passwords per account per hour from all addresses together, after which only a browser that signed in to the account before may try (a password reset clears it); also the reset mails, and the "someone tried to sign up with your address" mails, per account per hour.',
    ),
  AUTH_REGISTRATIONS_PER_IP_PER_HOUR: z.coerce
    .number()
    .int()
    .min(1)
    .default(50)
    .describe(
      'Dynamic Client Registrations (POST /reg) one client address may make per hour; more get 429. A client registers once per install; 50 leaves room for an office behind one address.',
    ),
  AUTH_UNUSED_CLIENT_SECONDS: seconds(86400, 300, 30 * 86400).describe(
    'A client registered by Dynamic Client Registration that no person has granted anything within this time is deleted (registrations nobody uses do not pile up).',
  ),
  AUTH_TRUST_PROXY: env
    .bool(false)
    .describe('Take the client address from X-Forwarded-For (behind the load balancer), for per-address limits.'),
  AUTH_UPSTREAM_PROVIDERS: upstreamProvidersSchema
    .optional()
    .describe(
      'Sign-in with upstream OpenID Connect providers (Google, …), a JSON array: [{"id":"google","name":"Google","issuer":"https://accounts.google.com","client_id":"…","scopes":["openid","email"]}] (scopes optional, default openid email). Each adds "Continue with" its name to the sign-in page; register AUTH_ISSUER + /interaction/callback/ + its id as its redirect URI. Unset: passwords only. Not secret; the client secrets go in AUTH_UPSTREAM_CLIENT_SECRETS.',
    ),
  AUTH_UPSTREAM_CLIENT_SECRETS: upstreamClientSecretsSchema
    .optional()
    .describe(
      'The client secret of each provider in AUTH_UPSTREAM_PROVIDERS, a JSON object by id: {"google":"…"} (a key/value secret in Secrets Manager has this form). Every provider needs one. Secret.',
    ),
  MAIL_FROM: z.string().min(3).default('callgate <no-reply@callgate.local>').describe('Sender of account mail.'),
  MAIL_SES_ENDPOINT: env
    .url()
    .optional()
    .describe("SES API endpoint. Unset: AWS's for AWS_REGION. Locally the sandbox's mail catcher."),
  AWS_REGION: z.string().min(1).default('us-east-1').describe('AWS region of SES.'),
  MAIL_DRAIN_INTERVAL_MS: env.milliseconds(2000).describe('How often the outbox is checked for mail to send.'),
};

export type AuthConfig = z.infer<z.ZodObject<typeof authConfigShape>>;
