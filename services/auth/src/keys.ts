import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@callgate/common';
import type { JWK } from 'oidc-provider';
import type { AuthConfig } from './config.js';

/** Algorithms an access token may be signed with; the gateway's JWKS path accepts these. */
const SIGNING_ALGORITHMS = new Set(['ES256', 'RS256']);

export interface AuthKeys {
  /** Private signing keys: the first signs, every one is published at /jwks (rotation: see docs/runbooks/AuthKeyRotation.md). */
  jwks: { keys: JWK[] };
  /** Cookie keys: the first signs, all verify. */
  cookies: string[];
}

/**
 * The signing and cookie keys: from AUTH_SIGNING_KEYS and AUTH_COOKIE_SECRETS (Secrets Manager in AWS),
 * or, in local mode only, generated once and kept under DATA_DIR (in memory without one), so tokens
 * and sign-ins survive a restart of `npm start`. Throws ConfigError naming the variable.
 */
export function loadKeys(config: AuthConfig, dataDir: string | undefined): AuthKeys {
  const problems: { variable: string; message: string }[] = [];
  let jwks: { keys: JWK[] } | undefined;
  if (config.AUTH_SIGNING_KEYS) {
    jwks = parseSigningKeys(config.AUTH_SIGNING_KEYS, problems);
  } else if (!config.AUTH_LOCAL_MODE) {
    problems.push({ variable: 'AUTH_SIGNING_KEYS', message: 'is required but not set (or set AUTH_LOCAL_MODE=true)' });
  }
  let cookies: string[] | undefined;
  if (config.AUTH_COOKIE_SECRETS) {
    cookies = config.AUTH_COOKIE_SECRETS.split(',').map((s) => s.trim());
    if (cookies.some((c) => c.length < 32)) {
      problems.push({ variable: 'AUTH_COOKIE_SECRETS', message: 'each key must be at least 32 characters' });
    }
  } else if (!config.AUTH_LOCAL_MODE) {
    problems.push({
      variable: 'AUTH_COOKIE_SECRETS',
      message: 'is required but not set (or set AUTH_LOCAL_MODE=true)',
    });
  }
  if (problems.length) throw new ConfigError('auth', problems);
  if (jwks && cookies) return { jwks, cookies };
  const local = localKeys(dataDir);
  return { jwks: jwks ?? local.jwks, cookies: cookies ?? local.cookies };
}

function parseSigningKeys(text: string, problems: { variable: string; message: string }[]): { keys: JWK[] } {
  const fail = (message: string) => {
    problems.push({ variable: 'AUTH_SIGNING_KEYS', message });
    return { keys: [] };
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('is not JSON: expected {"keys": [...]}');
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) return fail('expected {"keys": [...]} with at least one key');
  for (const key of keys as JWK[]) {
    if (typeof key.kid !== 'string' || !key.kid) return fail('every key needs a kid');
    if (!key.d) return fail(`key ${key.kid} is not a private key (no "d")`);
    if (key.alg && !SIGNING_ALGORITHMS.has(key.alg)) return fail(`key ${key.kid}: alg must be ES256 or RS256`);
  }
  return { keys: keys as JWK[] };
}

/** One new ES256 key, its kid random (never derived from anything secret). */
export function generateSigningKey(): JWK {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    ...(privateKey.export({ format: 'jwk' }) as JWK),
    kid: randomBytes(12).toString('base64url'),
    alg: 'ES256',
    use: 'sig',
  };
}

function localKeys(dataDir: string | undefined): AuthKeys {
  const fresh = () => ({ jwks: { keys: [generateSigningKey()] }, cookies: [randomBytes(32).toString('base64url')] });
  if (!dataDir) return fresh();
  const file = path.join(dataDir, 'auth-keys.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as AuthKeys;
  } catch {
    const keys = fresh();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(keys)}\n`, { mode: 0o600 });
    return keys;
  }
}
