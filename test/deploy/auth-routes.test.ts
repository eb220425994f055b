/**
 * Every page the auth service answers in public is routed to it by the ALB (terraform/modules/alb,
 * local.auth_paths, which the console's CloudFront distribution routes too). A page missing there is
 * answered in AWS by the gateway (the ALB's default action: 404), and at the console host by the SPA's
 * index.html: attack review found /delete-account so, unreachable in every deployed environment although
 * the personal tokens and sign-out pages link to it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');
const authSource = path.join(root, 'services/auth/src');

/** The ALB's auth path patterns, as written in local.auth_paths. */
function albAuthPaths(): string[] {
  const main = readFileSync(path.join(root, 'terraform/modules/alb/main.tf'), 'utf8');
  const list = /auth_paths\s*=\s*\[([^\]]*)\]/.exec(main)?.[1];
  assert.ok(list, 'local.auth_paths in terraform/modules/alb/main.tf');
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
}

/** An ALB path pattern (case-sensitive, * any characters) as a test. */
const matches = (pattern: string, urlPath: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(urlPath);

/** The paths the auth service's own pages compare against (`path === '/…'`), outside tests. */
function pagePaths(): string[] {
  const found = new Set<string>();
  for (const file of readdirSync(authSource)) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    for (const m of readFileSync(path.join(authSource, file), 'utf8').matchAll(/path === '(\/[^']*)'/g)) {
      found.add(m[1] as string);
    }
  }
  return [...found].sort();
}

test('every public page of the auth service is on the ALB (and so the console host) routes to it', () => {
  const patterns = albAuthPaths();
  const pages = pagePaths().filter((p) => p !== '/healthz'); // the target group's health check, not public
  assert.ok(pages.includes('/personal-tokens') && pages.includes('/signup'), `the scan finds the pages: ${pages}`);
  const unrouted = pages.filter((p) => !patterns.some((pattern) => matches(pattern, p)));
  assert.deepEqual(unrouted, [], `auth pages the ALB would send to the gateway: ${unrouted.join(', ')}`);
  // The interaction pages and oidc-provider's endpoints by example.
  for (const p of ['/interaction/abc/login', '/token/revocation', '/auth', '/jwks', '/request']) {
    assert.ok(
      patterns.some((pattern) => matches(pattern, p)),
      p,
    );
  }
});

/** The pages where the account's password is tried (sign-in, sign-up, reset, and the account pages that confirm with it). */
const PASSWORD_PAGES = [
  '/interaction/x/login',
  '/signup',
  '/reset-password',
  '/personal-tokens',
  '/sign-out-everywhere',
  '/delete-account',
];

test("the edge's tighter sign-in rate covers every page that takes the account's password", () => {
  const variables = readFileSync(path.join(root, 'terraform/modules/waf/variables.tf'), 'utf8');
  const block = /variable "sign_in_path_prefixes"[\s\S]*?default\s*=\s*\[([^\]]*)\]/.exec(variables)?.[1] ?? '';
  const prefixes = [...block.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
  const pages = pagePaths();
  for (const page of PASSWORD_PAGES.filter((p) => !p.startsWith('/interaction/'))) {
    assert.ok(pages.includes(page), `${page} is still an auth page`);
  }
  const uncovered = PASSWORD_PAGES.filter((p) => !prefixes.some((prefix) => p.startsWith(prefix)));
  assert.deepEqual(uncovered, [], `password pages outside the sign-in rate rule: ${uncovered.join(', ')}`);
});
