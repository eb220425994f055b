/**
 * FINDING (attack review, medium, not fixed: a design choice of the console's distribution, documented
 * in docs/architecture.md as a "known limit"; the fix is the lead's call).
 *
 * The console's CloudFront distribution routes the authorization server's paths (module.alb.auth_paths:
 * /reg, /signup, /interaction/*, /reset-password, /personal-tokens, /sign-out-everywhere, /delete-account,
 * …) from console_host to the ALB. There the auth service keys its per-address limits on the last
 * X-Forwarded-For hop (AUTH_TRUST_PROXY), which for these requests is a CloudFront edge server, not the
 * client. So through console_host:
 *   - a client's registrations (AUTH_REGISTRATIONS_PER_IP_PER_HOUR, "one address may make only a few an
 *     hour"), sign-ups, resets and sign-in attempts are counted per edge address: a client whose requests
 *     spread over many edge addresses gets a fresh budget on each (bounded only by the edge WAF's coarse
 *     3000 per 5 minutes per viewer for /reg, which has no tighter rule);
 *   - and a client that uses up an edge address's budget refuses everyone else behind that address.
 * The console does not need these routes: it signs in at public_host (its issuer) directly, and the CSP
 * already names that origin. Reproduce: POST https://<console_host>/reg repeatedly from one address, from
 * different CloudFront POPs (or simply over time as CloudFront rotates its origin-facing addresses): more
 * than AUTH_REGISTRATIONS_PER_IP_PER_HOUR clients register.
 *
 * Fix (suggested): route only /mcp* and /.well-known/* through console_host (drop var.auth_paths from
 * modules/console), or have CloudFront send a header the ALB rules require for auth paths and key the
 * limits on CloudFront-Viewer-Address. This test passes once no password or registration path is routed.
 *
 * Run by hand: node --import tsx --test test/deploy/console-auth-paths.finding.ts
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
