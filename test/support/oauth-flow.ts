/**
 * A scripted browser for the authorization server's pages (no JavaScript is needed on them): a
 * cookie jar, manual redirects, and the steps of an authorization request, so tests can send each
 * step exactly as an attacker would, or leave a part out.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';

export const pkcePair = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

export class ScriptedBrowser {
  private readonly cookies = new Map<string, string>();
  /** `localAddress`: the loopback address to connect from (127.0.0.2…), to stand for another client address. */
  constructor(
    readonly origin: string,
    private readonly localAddress?: string,
  ) {}

  async request(
    path: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; location: string | null; body: string; headers: Record<string, string> }> {
    const url = path.startsWith('http') ? path : `${this.origin}${path}`;
    const headers = {
      ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...init.headers,
    };
    const response = await send(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
      ...(this.localAddress ? { localAddress: this.localAddress } : {}),
    });
    for (const line of response.setCookies) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair && at > 0) {
        const value = pair.slice(at + 1);
        if (value && !/expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.set(pair.slice(0, at), value);
        else this.cookies.delete(pair.slice(0, at));
      }
    }
    return { status: response.status, location: response.location, body: response.body, headers: response.headers };
  }

  /** Follows same-origin redirects until a page or a redirect elsewhere. */
  async follow(path: string): Promise<{ status: number; location: string | null; body: string; url: string }> {
    let url = path;
    for (let hops = 0; hops < 10; hops++) {
      const answer = await this.request(url);
      if (!answer.location) return { ...answer, url };
      const next = new URL(answer.location, this.origin);
      if (next.origin !== this.origin) return { ...answer, url };
      url = next.pathname + next.search;
    }
    throw new Error('too many redirects');
  }
}

interface Sent {
  status: number;
  location: string | null;
  setCookies: string[];
  body: string;
  /** Every response header, lower-case names (repeated ones joined by ", "). */
  headers: Record<string, string>;
}

/** One request without following redirects: fetch, or node:http when it must leave from a given local address. */
async function send(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; localAddress?: string },
): Promise<Sent> {
  if (!init.localAddress) {
    const response = await fetch(url, { ...init, redirect: 'manual' });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    return {
      status: response.status,
      location: response.headers.get('location'),
      setCookies: response.headers.getSetCookie(),
      body: await response.text(),
      headers,
    };
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method, headers: init.headers, localAddress: init.localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location ?? null,
            setCookies: res.headers['set-cookie'] ?? [],
            body: Buffer.concat(chunks).toString('utf8'),
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]),
            ),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

export const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
export const interactionOf = (url: string) => /\/interaction\/([A-Za-z0-9_-]+)/.exec(url)?.[1] ?? '';

/** Registers a public client by DCR. */
export async function registerClient(origin: string, redirectUri: string): Promise<string> {
  const response = await fetch(`${origin}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'bad-input test',
      redirect_uris: [redirectUri],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }),
  });
  const body = (await response.json()) as { client_id?: string };
  if (!body.client_id) throw new Error(`registration failed: ${JSON.stringify(body)}`);
  return body.client_id;
}

export function authorizeUrl(params: Record<string, string | undefined>): string {
  const query = new URLSearchParams(
    Object.entries({ response_type: 'code', scope: 'calls:read', ...params }).filter(
      (e): e is [string, string] => e[1] !== undefined,
    ),
  );
  return `/auth?${query}`;
}

/**
 * From the authorization endpoint's first answer (a redirect to the sign-in page) to the code: signs in
 * with the account's password on the scripted page and allows on the consent page.
 */
export async function scriptedSignInAndConsent(
  browser: ScriptedBrowser,
  first: { status: number; location: string | null; body: string },
  account: { email: string; password: string },
): Promise<{ code: string; consentPage: string }> {
  const origin = browser.origin;
  if (!first.location) throw new Error(`no redirect to sign in: ${first.status} ${first.body.slice(0, 300)}`);
  const login = await browser.follow(new URL(first.location, origin).pathname);
  const uid = interactionOf(login.url);
  if (!uid) throw new Error(`no sign-in page: ${login.status} ${login.body.slice(0, 300)}`);
  const signedIn = await browser.request(`/interaction/${uid}/login`, {
    form: { csrf: csrfOf(login.body), ...account },
  });
  if (signedIn.status !== 303) throw new Error(`sign-in refused: ${signedIn.status} ${signedIn.body.slice(0, 300)}`);
  const consent = await browser.follow(new URL(signedIn.location ?? '', origin).pathname);
  const allowed = await browser.request(`/interaction/${interactionOf(consent.url)}/consent`, {
    form: { csrf: csrfOf(consent.body), decision: 'allow' },
  });
  const back = await browser.follow(new URL(allowed.location ?? '', origin).pathname);
  const code = URL.parse(back.location ?? '')?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back.status} ${back.location} ${back.body.slice(0, 300)}`);
  return { code, consentPage: consent.body };
}

/** POST /token with a form; the status and the JSON answer. */
export async function tokenRequest(
  origin: string,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${origin}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}
