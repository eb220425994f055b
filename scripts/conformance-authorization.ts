/**
 * `npm run conformance:authorization`: the MCP conformance suite's authorization server scenarios
 * (`conformance authorization`: authorization-server-metadata-endpoint, authorization-code-grant)
 * against the auth service, with nothing excused: exit 0 only when every check passes.
 *
 * The auth service runs in local mode on ephemeral ports (test/support/auth-service.ts: its own test
 * database, the sandbox catching mail) with a seeded account; a public client is registered for the
 * suite's callback (http://127.0.0.1:<port>/callback). authorization-code-grant prints an
 * authorization URL and waits for a person to sign in: a scripted browser signs in and consents, and
 * the redirect reaches the suite's callback. The suite asks for no scope and names no resource, so
 * this also proves the default scopes (services/auth/src/scopes.ts). Runs the suite under Node 22
 * (npx node@22), as scripts/conformance.ts does; bounded by CONFORMANCE_TIMEOUT_MS (default 5 min).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestAuthService } from '../test/support/auth-service.js';
import { csrfOf, interactionOf, ScriptedBrowser } from '../test/support/oauth-flow.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SUITE = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const TIMEOUT_MS = Number(process.env.CONFORMANCE_TIMEOUT_MS ?? 300_000);
const email = `conformance-${randomUUID()}@example.com`;
const password = 'conformance suite password';

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Signs in and consents at the authorization URL the suite printed; delivers the redirect to its callback. */
async function signIn(origin: string, authorizationUrl: string): Promise<void> {
  const browser = new ScriptedBrowser(origin);
  const target = new URL(authorizationUrl);
  const login = await browser.follow(target.pathname + target.search);
  const uid = interactionOf(login.url);
  if (!uid) throw new Error(`no sign-in page: ${login.status} ${login.body.slice(0, 200)}`);
  const signedIn = await browser.request(`/interaction/${uid}/login`, {
    form: { csrf: csrfOf(login.body), email, password },
  });
  const consent = await browser.follow(new URL(signedIn.location ?? '', origin).pathname);
  const allowed = await browser.request(`/interaction/${interactionOf(consent.url)}/consent`, {
    form: { csrf: csrfOf(consent.body), decision: 'allow' },
  });
  const back = await browser.follow(new URL(allowed.location ?? '', origin).pathname);
  if (!back.location) throw new Error(`no redirect back to the client: ${back.status} ${back.body.slice(0, 200)}`);
  await (await fetch(back.location)).text();
}

async function main(): Promise<number> {
  const service = await startTestAuthService({
    AUTH_RESOURCE_URL: 'http://127.0.0.1:1/mcp',
    AUTH_SEED_ACCOUNT: `${email}:${password}`,
  });
  const output = mkdtempSync(path.join(tmpdir(), 'callgate-conformance-authorization-'));
  try {
    const port = await freePort();
    const registered = await fetch(`${service.origin}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'MCP conformance suite',
        redirect_uris: [`http://127.0.0.1:${port}/callback`],
        token_endpoint_auth_method: 'none',
      }),
    });
    const clientId = ((await registered.json()) as { client_id?: string }).client_id;
    if (!clientId) throw new Error(`registration failed: ${registered.status}`);
    const child = spawn(
      'npx',
      [
        '-y',
        'node@22',
        SUITE,
        'authorization',
        '--url',
        service.origin,
        '--client-id',
        clientId,
        '--port',
        String(port),
        '-o',
        output,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    );
    const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), TIMEOUT_MS);
    let pending = '';
    let browsing: Promise<void> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith(`${service.origin}/auth?`)) {
          browsing = signIn(service.origin, line.trim()).catch((error: unknown) => {
            process.stderr.write(`scripted sign-in failed: ${(error as Error).message}\n`);
          });
        }
      }
    });
    await new Promise((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    await browsing;
    const failures: string[] = [];
    let scenarios = 0;
    for (const entry of readdirSync(output, { recursive: true, encoding: 'utf8' })) {
      if (!entry.endsWith('checks.json')) continue;
      scenarios++;
      for (const check of JSON.parse(readFileSync(path.join(output, entry), 'utf8')) as Check[]) {
        if (check.status === 'FAILURE')
          failures.push(`${path.dirname(entry)} ${check.id}: ${check.errorMessage ?? ''}`);
      }
    }
    if (scenarios < 2) failures.push(`only ${scenarios} scenario result(s) written`);
    process.stdout.write(
      failures.length
        ? `\nconformance authorization: FAIL\n${failures.map((f) => `  ✗ ${f}`).join('\n')}\n`
        : `\nconformance authorization: PASS (${scenarios} scenarios)\n`,
    );
    return failures.length ? 1 : 0;
  } finally {
    rmSync(output, { recursive: true, force: true });
    await service.stop();
  }
}

process.exitCode = await main();
