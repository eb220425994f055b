/**
 * The console's CloudFront distribution routes /mcp* and /.well-known/* to the ALB, never the
 * authorization server's pages (attack review of Dec 2026, finding F4). Behind CloudFront the auth service
 * keys its per-address limits (AUTH_REGISTRATIONS_PER_IP_PER_HOUR, sign-ups, resets, sign-in guesses) on
 * the last X-Forwarded-For hop, a CloudFront edge server: a client spread over edges would get a fresh
 * budget on each, and one client could use up an edge's budget for everyone behind it. The console does
 * not need those routes: it signs in at public_host, the issuer its tokens are bound to.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '../..');

test('the console host routes no auth path whose per-address limits would count a CloudFront edge as the client', () => {
  const distribution = readFileSync(path.join(root, 'terraform/modules/console/distribution.tf'), 'utf8');
  assert.doesNotMatch(
    distribution,
    /var\.auth_paths/,
    'modules/console routes the ALB auth paths (registration, sign-up, sign-in, password pages) through console_host',
  );
});
