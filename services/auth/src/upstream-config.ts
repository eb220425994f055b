import { ConfigError } from '@callgate/common';
import { z } from 'zod';

/** At most this many providers: each is a button on the sign-in page. */
const MAX_PROVIDERS = 10;
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

const providerSchema = z.strictObject({
  // In the callback path (/interaction/callback/<id>) and the identities table: short and URL-safe.
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'id: lower-case letters, digits and dashes, at most 32 (e.g. google)'),
  name: z
    .string()
    .min(1, 'name: the name on the button, e.g. Google')
    .max(40, 'name: at most 40 characters')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    .refine((v) => !/[\u0000-\u001f\u007f]/.test(v), 'name: no control characters'),
  issuer: z.url({ message: 'issuer: expected the URL of an OpenID Connect issuer, e.g. https://accounts.google.com' }),
  client_id: z.string().min(1, 'client_id: required').max(512, 'client_id: at most 512 characters'),
  scopes: z
    .array(z.string().regex(SCOPE_TOKEN, 'scopes: each a scope token (no spaces or quotes)'))
    .max(20, 'scopes: at most 20')
    .default(['openid', 'email'])
    // Without openid there is no ID token to verify; without email no account can be found or created.
    .refine((s) => s.includes('openid') && s.includes('email'), 'scopes: must include openid and email'),
});

export type UpstreamProviderConfig = z.infer<typeof providerSchema>;

/**
 * JSON in an environment variable, parsed with messages that never quote the value (it may hold a
 * secret): JSON.parse's own message shows a piece of the text.
 */
function json<T extends z.ZodType>(schema: T, what: string) {
  return z.string().transform((raw, ctx): z.infer<T> => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      const at = /position (\d+)/.exec(String((error as Error).message))?.[1];
      ctx.addIssue({
        code: 'custom',
        message: `is not valid JSON${at ? ` (at character ${at})` : ''}: expected ${what}`,
      });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      const where = issue.path.length ? `at ${issue.path.join('.')}: ` : '';
      ctx.addIssue({ code: 'custom', message: `${where}${issue.message}` });
    }
    return z.NEVER;
  });
}

export const upstreamProvidersSchema = json(
  z
    .array(providerSchema, { message: 'expected a JSON array of providers' })
    .max(MAX_PROVIDERS, `at most ${MAX_PROVIDERS} providers`)
    .refine((list) => new Set(list.map((p) => p.id)).size === list.length, 'each provider id once'),
  'a JSON array of providers',
);

export const upstreamClientSecretsSchema = json(
  z.record(z.string(), z.string().min(1, 'an empty client secret').max(2048, 'a client secret of at most 2048'), {
    message: 'expected a JSON object of client secrets by provider id',
  }),
  'a JSON object of client secrets by provider id, {"google":"…"}',
);

/** One upstream provider, ready to use: its settings and its client secret. */
export interface UpstreamProvider {
  id: string;
  name: string;
  issuer: URL;
  clientId: string;
  clientSecret: string;
  scopes: string[];
}

/**
 * The configured providers with their secrets, checked together at start: every provider has a secret
 * and every secret a provider (a misspelt id would otherwise fail only when someone signs in), and
 * issuers are https unless AUTH_LOCAL_MODE (a test or a local identity provider on plain http).
 */
export function upstreamProvidersOf(config: {
  AUTH_LOCAL_MODE: boolean;
  AUTH_UPSTREAM_PROVIDERS?: UpstreamProviderConfig[] | undefined;
  AUTH_UPSTREAM_CLIENT_SECRETS?: Record<string, string> | undefined;
}): UpstreamProvider[] {
  const providers = config.AUTH_UPSTREAM_PROVIDERS ?? [];
  const secrets = config.AUTH_UPSTREAM_CLIENT_SECRETS ?? {};
  const problems: { variable: string; message: string }[] = [];
  for (const provider of providers) {
    const issuer = new URL(provider.issuer);
    if (issuer.protocol !== 'https:' && !(config.AUTH_LOCAL_MODE && issuer.protocol === 'http:')) {
      problems.push({
        variable: 'AUTH_UPSTREAM_PROVIDERS',
        message: `provider ${provider.id}: the issuer must be an https URL (plain http only with AUTH_LOCAL_MODE)`,
      });
    }
    if (issuer.search || issuer.hash) {
      problems.push({
        variable: 'AUTH_UPSTREAM_PROVIDERS',
        message: `provider ${provider.id}: the issuer has no query or fragment`,
      });
    }
    if (!Object.hasOwn(secrets, provider.id)) {
      problems.push({
        variable: 'AUTH_UPSTREAM_CLIENT_SECRETS',
        message: `has no client secret for provider ${provider.id}`,
      });
    }
  }
  for (const id of Object.keys(secrets)) {
    if (!providers.some((p) => p.id === id)) {
      problems.push({
        variable: 'AUTH_UPSTREAM_CLIENT_SECRETS',
        message: `names provider ${JSON.stringify(id.slice(0, 40))}, which AUTH_UPSTREAM_PROVIDERS does not configure`,
      });
    }
  }
  if (problems.length) throw new ConfigError('auth', problems);
  return providers.map((p) => ({
    id: p.id,
    name: p.name,
    issuer: new URL(p.issuer),
    clientId: p.client_id,
    clientSecret: secrets[p.id] as string,
    scopes: p.scopes,
  }));
}
