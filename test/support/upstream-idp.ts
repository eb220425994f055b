/**
 * An upstream OpenID Connect provider for tests of "Continue with …": a second oidc-provider (the same
 * library as our authorization server) on 127.0.0.1 over plain http, with one confidential client for
 * callgate, its own development sign-in pages (any login name; the claims of each person are set by the
 * test), and a way to make it misbehave: its token answers' ID tokens rewritten and re-signed with its own
 * key (a wrong nonce or audience that only the claim checks can catch) or signed with another key.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttp } from '@callgate/common';
import jwt from 'jsonwebtoken';
import Provider from 'oidc-provider';
import { newKey, type TestKey } from './jwks.js';
import { ScriptedBrowser } from './oauth-flow.js';

export interface PersonAtIdp {
  email?: string;
  email_verified?: unknown;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Login name at the IdP (its `sub`) → the claims it vouches for. */
  people: Map<string, PersonAtIdp>;
  /** Rewrites the claims of the ID tokens it issues from now on (undefined: as issued). */
  tamper(rewrite: ((claims: Record<string, unknown>) => Record<string, unknown>) | undefined, key?: TestKey): void;
  /** Registers callgate's redirect URI (known once the auth service listens) and starts answering. */
  register(redirectUri: string): void;
  stop(): Promise<void>;
}

/**
 * `host: 'localhost'` names it http://localhost:<port> (listening on both loopback families): another
 * site than callgate's 127.0.0.1 for a browser, as a real provider is.
 */
export async function startTestIdp(options: { host?: '127.0.0.1' | 'localhost' } = {}): Promise<TestIdp> {
  const host = options.host ?? '127.0.0.1';
  const key = newKey('RS256');
  const clientId = 'callgate-test';
  const clientSecret = randomBytes(24).toString('base64url');
  const people = new Map<string, PersonAtIdp>();
  let provider: Provider | undefined;
  let callback: ReturnType<Provider['callback']> | undefined;
  let tampering: { rewrite: (claims: Record<string, unknown>) => Record<string, unknown>; key: TestKey } | undefined;
  const server = createServer((req, res) => {
    if (!callback) {
      res.writeHead(503).end();
      return;
    }
    if (tampering && req.method === 'POST' && req.url === '/token') rewriteIdToken(res, tampering);
    callback(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, host === 'localhost' ? '::' : host, resolve));
  const issuer = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    clientId,
    clientSecret,
    people,
    tamper: (rewrite, signingKey = key) => {
      tampering = rewrite ? { rewrite, key: signingKey } : undefined;
    },
    register: (redirectUri) => {
      provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [redirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        jwks: { keys: [{ ...key.privateKey.export({ format: 'jwk' }), kid: key.kid, alg: key.alg, use: 'sig' }] },
        // Its own cookie names: in a real browser both servers on 127.0.0.1 would share a cookie jar.
        cookies: {
          keys: [randomBytes(32).toString('hex')],
          names: { session: 'idp_session', interaction: 'idp_interaction', resume: 'idp_resume' },
        },
        claims: { openid: ['sub'], email: ['email', 'email_verified'] },
        // The address in the ID token itself, as Google does (not only at userinfo).
        conformIdTokenClaims: false,
        features: { devInteractions: { enabled: true }, userinfo: { enabled: true } },
        pkce: { required: () => true },
        ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
        findAccount: (_ctx, sub) => {
          const person = people.get(sub);
          if (!person) return undefined;
          return { accountId: sub, claims: async () => ({ sub, ...person }) };
        },
      });
      callback = provider.callback();
    },
    stop: () => closeHttp(server),
  };
}

/** Holds back the token endpoint's JSON answer and sends it with its ID token rewritten and re-signed. */
function rewriteIdToken(
  res: ServerResponse,
  tampering: { rewrite: (claims: Record<string, unknown>) => Record<string, unknown>; key: TestKey },
): void {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown) => {
    const body = JSON.parse(String(chunk ?? '{}')) as { id_token?: string };
    if (body.id_token) {
      const claims = jwt.decode(body.id_token) as Record<string, unknown>;
      body.id_token = jwt.sign(tampering.rewrite(claims), tampering.key.privateKey, {
        algorithm: 'RS256',
        keyid: tampering.key.kid,
      });
    }
    const text = JSON.stringify(body);
    res.setHeader('content-length', Buffer.byteLength(text));
    return end(text);
  }) as typeof res.end;
}

/**
 * A person at the IdP: follows callgate's redirect to the IdP, signs in as `login` on its development page
 * and consents, and returns the redirect back to callgate's callback (not followed: the caller sends it
 * from callgate's browser). `decision: 'abort'` cancels at the IdP instead (error=access_denied).
 */
export async function signInAtIdp(
  idp: TestIdp,
  authorizationUrl: string,
  login: string,
  decision: 'allow' | 'abort' = 'allow',
): Promise<string> {
  const browser = new ScriptedBrowser(idp.issuer);
  let answer = await browser.request(authorizationUrl);
  for (let step = 0; step < 6; step++) {
    const location = answer.location;
    if (!location) throw new Error(`the IdP stopped at ${answer.status}: ${answer.body.slice(0, 300)}`);
    if (!location.startsWith(idp.issuer) && !location.startsWith('/')) return location;
    const page = await browser.request(new URL(location, idp.issuer).href);
    if (page.location) {
      answer = page;
      continue;
    }
    const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(location)?.[1] ?? '';
    if (decision === 'abort') {
      answer = await browser.request(`/interaction/${uid}/abort`);
      continue;
    }
    const prompt = /name="prompt" value="(\w+)"/.exec(page.body)?.[1];
    const form: Record<string, string> = { prompt: prompt ?? 'login' };
    if (prompt === 'login') Object.assign(form, { login, password: 'any' });
    answer = await browser.request(`/interaction/${uid}`, { form });
  }
  throw new Error('the IdP sent the person around in circles');
}

/** The CSRF token of the "Continue with …" form on a sign-in page. */
export const upstreamCsrfOf = (page: string) =>
  /action="\/interaction\/[A-Za-z0-9_-]+\/upstream"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"/.exec(
    page,
  )?.[1] ?? '';

/**
 * At callgate: an authorization request of a registered client, its sign-in page, and "Continue with"
 * the provider `providerId`; the redirect to the IdP (or the answer when there is none).
 */
export async function continueWithUpstream(
  origin: string,
  client: { clientId: string; redirectUri: string; challenge: string },
  providerId = 'testidp',
  browser = new ScriptedBrowser(origin),
) {
  const query = new URLSearchParams({
    response_type: 'code',
    scope: 'calls:read',
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    code_challenge: client.challenge,
    code_challenge_method: 'S256',
    state: 'client-state',
  });
  return continueFrom(browser, `/auth?${query}`, providerId);
}

/** The same from an authorization URL a client made (an MCP SDK client's). */
export async function continueFrom(
  browser: ScriptedBrowser,
  authorizationUrl: string,
  providerId = 'testidp',
): Promise<{
  browser: ScriptedBrowser;
  uid: string;
  signInPage: string;
  started: { status: number; location: string | null; body: string; headers: Record<string, string> };
}> {
  const first = await browser.request(authorizationUrl);
  if (!first.location) throw new Error(`no redirect to sign in: ${first.status} ${first.body.slice(0, 300)}`);
  const signIn = await browser.follow(new URL(first.location, browser.origin).pathname);
  const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(signIn.url)?.[1] ?? '';
  const started = await browser.request(`/interaction/${uid}/upstream`, {
    form: { csrf: upstreamCsrfOf(signIn.body), provider: providerId },
  });
  return { browser, uid, signInPage: signIn.body, started };
}

/** Back at callgate with the IdP's answer: the callback, then consent (allowed); the client's code. */
export async function finishAtCallgate(browser: ScriptedBrowser, callbackUrl: string): Promise<string> {
  const back = await browser.request(callbackUrl);
  if (back.status !== 303 || !back.location)
    throw new Error(`callback refused: ${back.status} ${back.body.slice(0, 400)}`);
  const consent = await browser.follow(new URL(back.location, browser.origin).pathname);
  const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(consent.url)?.[1] ?? '';
  if (!uid) throw new Error(`no consent page: ${consent.status} ${consent.body.slice(0, 300)}`);
  const allowed = await browser.request(`/interaction/${uid}/consent`, {
    form: { csrf: /name="csrf" value="([^"]+)"/.exec(consent.body)?.[1] ?? '', decision: 'allow' },
  });
  const done = await browser.follow(new URL(allowed.location ?? '', browser.origin).pathname);
  const code = URL.parse(done.location ?? '')?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${done.status} ${done.location} ${done.body.slice(0, 300)}`);
  return code;
}
