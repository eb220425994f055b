/**
 * A scripted browser for the authorization server's pages (no JavaScript is needed on them): a
 * cookie jar, manual redirects, and the steps of an authorization request, so tests can send each
 * step exactly as an attacker would, or leave a part out.
 */
import { createHash, randomBytes } from 'node:crypto';
export const pkcePair = () => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};
export class ScriptedBrowser {
    origin;
    cookies = new Map();
    constructor(origin) {
        this.origin = origin;
    }
    async request(path, init = {}) {
        const url = path.startsWith('http') ? path : `${this.origin}${path}`;
        const response = await fetch(url, {
            method: init.method ?? (init.form ? 'POST' : 'GET'),
            redirect: 'manual',
            headers: {
                ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
                ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
                ...init.headers,
            },
            ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
        });
        for (const line of response.headers.getSetCookie()) {
            const [pair] = line.split(';');
            const at = pair?.indexOf('=') ?? -1;
            if (pair && at > 0) {
                const value = pair.slice(at + 1);
                if (value && !/expires=Thu, 01 Jan 1970/i.test(line))
                    this.cookies.set(pair.slice(0, at), value);
                else
                    this.cookies.delete(pair.slice(0, at));
            }
        }
        return { status: response.status, location: response.headers.get('location'), body: await response.text() };
    }
    /** Follows same-origin redirects until a page or a redirect elsewhere. */
    async follow(path) {
        let url = path;
        for (let hops = 0; hops < 10; hops++) {
            const answer = await this.request(url);
            if (!answer.location)
                return { ...answer, url };
            const next = new URL(answer.location, this.origin);
            if (next.origin !== this.origin)
                return { ...answer, url };
            url = next.pathname + next.search;
        }
        throw new Error('too many redirects');
    }
}
export const csrfOf = (page) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
export const interactionOf = (url) => /\/interaction\/([A-Za-z0-9_-]+)/.exec(url)?.[1] ?? '';
/** Registers a public client by DCR. */
export async function registerClient(origin, redirectUri) {
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
    const body = (await response.json());
    if (!body.client_id)
        throw new Error(`registration failed: ${JSON.stringify(body)}`);
    return body.client_id;
}
export function authorizeUrl(params) {
    const query = new URLSearchParams(Object.entries({ response_type: 'code', scope: 'calls:read', ...params }).filter((e) => e[1] !== undefined));
    return `/auth?${query}`;
}
//# sourceMappingURL=oauth-flow.js.map