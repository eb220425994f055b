import { IncomingMessage } from 'node:http';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { DEFAULT_SCOPES } from './scopes.js';

/** oidc-provider's own limit on a form body (lib/shared/selective_body.js): a larger one it refuses anyway. */
const MAX_BODY_BYTES = 56 * 1024;
const PAR_PATH = '/request';

/**
 * What reaches oidc-provider's authorization endpoints, before it sees it:
 *
 * - A request that asks for no scope asks for the default scopes (scopes.ts), whether it comes to
 *   GET /auth (query) or as a pushed authorization request (POST /request, RFC 9126), whose stored
 *   parameters the later GET /auth?request_uri=… uses. oidc-provider would otherwise grant nothing and
 *   end the sign-in in access_denied ("no scope was granted"). A request object (`request`, or a
 *   `request_uri` at /auth) carries its own parameters and is left as it is. oidc-provider offers no hook
 *   between reading the parameters and checking them, so the query is rewritten, or the PAR body replayed
 *   as a new request on the same socket.
 * - POST /auth is answered 405 with a message naming what to do instead. oidc-provider 9 serves it only
 *   with `enableHttpPostMethods`, which it allows only with a SameSite=None session cookie: every site
 *   could then make a browser send its callgate session. OAuth 2.1 (§4.1.1) requires GET and makes POST
 *   optional, and MCP clients send GET; PAR is the standard way to send the parameters in a body.
 */
export async function authorizationRequests(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  if (ctx.path === '/auth' && ctx.method === 'GET') {
    const query = new URLSearchParams(ctx.querystring);
    if (!query.get('scope') && !query.has('request') && !query.has('request_uri')) {
      query.set('scope', DEFAULT_SCOPES.join(' '));
      ctx.querystring = query.toString();
    }
  } else if (ctx.path === '/auth' && ctx.method === 'POST') {
    ctx.req.resume();
    refuse(
      ctx,
      405,
      'the authorization endpoint takes GET only; to send the parameters in a body, push them to /request (RFC 9126) and send the request_uri to /auth',
    );
    ctx.set('allow', 'GET');
    return;
  } else if (ctx.path === PAR_PATH && ctx.method === 'POST' && ctx.is('urlencoded')) {
    const body = await readBody(ctx.req);
    if (body === undefined) return refuse(ctx, 413, `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    const form = new URLSearchParams(body.toString('utf8'));
    // A pushed request never names a request_uri (oidc-provider refuses one there), so only `request` counts.
    let replayed = body;
    if (!form.get('scope') && !form.has('request')) {
      form.set('scope', DEFAULT_SCOPES.join(' '));
      replayed = Buffer.from(form.toString());
    }
    ctx.req = ctx.request.req = replay(ctx.req, replayed);
  }
  await next();
}

function refuse(ctx: KoaContextWithOIDC, status: number, description: string): void {
  ctx.status = status;
  ctx.set('cache-control', 'no-store');
  ctx.body = { error: 'invalid_request', error_description: description };
}

/** The whole body, or undefined when it is over the limit (the rest is drained, not kept). */
async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const chunks: Buffer[] = [];
  let size = 0;
  // Not destroyed at the end or on a break: that would close the connection before the answer.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (declared > MAX_BODY_BYTES || size > MAX_BODY_BYTES) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** A request like `original` (socket, method, URL, headers) whose body is `body`. */
function replay(original: IncomingMessage, body: Buffer): IncomingMessage {
  const request = new IncomingMessage(original.socket);
  request.method = original.method;
  request.url = original.url as string;
  request.httpVersion = original.httpVersion;
  request.httpVersionMajor = original.httpVersionMajor;
  request.httpVersionMinor = original.httpVersionMinor;
  const { 'transfer-encoding': _chunked, ...headers } = original.headers;
  request.headers = { ...headers, 'content-length': String(body.length) };
  // Complete, as a parsed request is once read: an incomplete one counts as aborted when it ends and
  // takes the socket down with it.
  request.complete = true;
  request.push(body);
  request.push(null);
  return request;
}
