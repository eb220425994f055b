import { z } from 'zod';
import { tracingConfigShape } from './tracing/otlp.js';

/** A configuration value was missing or invalid. The message names every offending variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly service: string,
    readonly problems: readonly { variable: string; message: string }[],
  ) {
    super(`${service}: invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
  }
}

/** Environment variables are strings; these parse them into typed values with messages a person can act on. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  /** `true`/`false`/`1`/`0`; anything else is an error rather than a silent false. */
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'], { message: 'expected true, false, 1 or 0' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  url: () => z.url({ message: 'expected a URL' }),
  host: (fallback = '127.0.0.1') => z.string().min(1).default(fallback),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Node timers overflow past 2^31-1 ms and fire at once; larger values are refused. */
  milliseconds: (fallback: number) => z.coerce.number().int().positive().max(2_147_483_647).default(fallback),
  grpcPort: (fallback: number) =>
    env.port(fallback).describe('gRPC port (API, grpc.health.v1, reflection); 0 picks a free one.'),
  metricsPort: (fallback: number) => env.port(fallback).describe('Internal HTTP port: /metrics, /healthz, /readyz.'),
  /** host:port of another service's gRPC server. */
  grpcAddress: (fallback: string, service: string) =>
    z
      .string()
      .regex(/^[^:\s]+:\d+$/, 'expected host:port')
      .default(fallback)
      .describe(`gRPC address of the ${service} service.`),
};

/** Variables every service reads. Each has a description: the README's table is generated from them. */
export const baseConfigShape = {
  LOG_LEVEL: env.logLevel().describe('pino log level.'),
  BIND_HOST: env.host().describe('Address the servers bind to; 0.0.0.0 in containers.'),
  SHUTDOWN_TIMEOUT_MS: env
    .milliseconds(10_000)
    .describe('How long SIGTERM waits for in-flight work before forcing exit.'),
  ...tracingConfigShape,
};

export type BaseConfig = z.infer<z.ZodObject<typeof baseConfigShape>>;

/** Variables of services that own a PostgreSQL schema. */
export const databaseConfigShape = {
  DATABASE_URL: env.url().optional().describe('PostgreSQL connection string. Unset: embedded PGlite under DATA_DIR.'),
  DATA_DIR: z.string().min(1).default('.data').describe('Folder for embedded data (PGlite, the local JWT key).'),
};

/** Variables of services that keep state every replica must share in Redis (with an in-process stand-in). */
export const redisConfigShape = {
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, message: 'expected a redis:// or rediss:// URL' })
    .optional()
    .describe(
      'Redis (redis:// or rediss://) for state every replica shares, e.g. the per-user rate limits. Unset: each process keeps its own.',
    ),
};

/** Where calls' voices, models and prices come from; read by call (to offer and price) and user-credit (to validate preferences). */
export const catalogConfigShape = {
  CALL_OPTIONS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'JSON file with the voices, models and price table. Unset: the bundled services/common/catalog/options.json.',
    ),
};

/** E.164 numbers the account owns; every user may call from these, the first is the default caller id. */
export const callerIdsConfigShape = {
  CALLER_IDS: z
    .string()
    .default('+15005550006')
    .transform((value, ctx) => {
      const numbers = value
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean);
      const bad = numbers.filter((n) => !/^\+[1-9]\d{6,14}$/.test(n));
      if (numbers.length === 0 || bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `comma-separated E.164 numbers expected, got ${JSON.stringify(bad.length ? bad : value)}`,
        });
        return z.NEVER;
      }
      return numbers;
    })
    .describe(
      "The account's caller-id numbers (E.164, comma-separated); every user may call from them, the first is the default. Default: Twilio's test number +15005550006.",
    ),
};

/**
 * Parses the environment against a zod object shape. Returns typed config or throws
 * ConfigError naming each bad variable; main() turns that into a clear exit.
 */
export function loadConfig<S extends z.ZodRawShape>(
  service: string,
  shape: S,
  source: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  // Empty strings mean "unset": docker and shells often pass VAR= for optional values.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    service,
    result.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '(root)');
      // zod does not put the input on issues; whether the variable was set decides the message.
      const unset = issue.code === 'invalid_type' && cleaned[variable] === undefined;
      return { variable, message: unset ? 'is required but not set' : issue.message };
    }),
  );
}
