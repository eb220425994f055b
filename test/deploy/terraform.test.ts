import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { consoleCsp } from '../../scripts/console-host/security-headers.js';
import { checkTerraform } from '../../scripts/deploy-checks/terraform/index.js';
import { findTerraformTooling, validateTerraform } from '../../scripts/deploy-checks/terraform/validate.js';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(root, 'test/deploy/fixtures/terraform');

const assertMentions = (problems: string[], expected: RegExp) =>
  assert.ok(
    problems.some((p) => expected.test(p)),
    `expected ${expected} in:\n${problems.join('\n')}`,
  );

// The real tool: without it or the offline provider mirror the checks below are skipped, and say so loudly.
const tooling = await findTerraformTooling();
const skip = 'missing' in tooling ? `TERRAFORM NOT CHECKED: ${tooling.missing}` : false;
if (skip) {
  const line = '!'.repeat(100);
  process.stderr.write(
    `\n${line}\n!!! ${skip}\n!!! terraform fmt and validate did NOT run: install Terraform >= 1.9 and the hashicorp/aws mirror.\n${line}\n\n`,
  );
}

test('terraform fmt -check and terraform init + validate pass in every environment', { skip }, async () => {
  if ('missing' in tooling) return;
  const result = await validateTerraform(path.join(root, 'terraform'), tooling);
  assert.deepEqual(Object.keys(result.environments).sort(), ['production', 'staging']);
  assert.deepEqual(result, { format: [], environments: { production: [], staging: [] } });
});

test('an error Terraform finds (for_each over a sensitive value) and bad formatting fail the check', {
  skip,
}, async () => {
  if ('missing' in tooling) return;
  const copy = mkdtempSync(path.join(os.tmpdir(), 'callgate-terraform-planted-'));
  try {
    cpSync(path.join(root, 'terraform'), copy, { recursive: true });
    // The defect of issue 17: count/for_each derived from a sensitive variable.
    const database = path.join(copy, 'modules/database/main.tf');
    const text = readFileSync(database, 'utf8');
    const planted = text.replace(/nonsensitive\((var\.external_database_url == null)\)/, '$1');
    assert.notEqual(planted, text, 'the database module no longer has the line this test plants an error in');
    writeFileSync(
      database,
      planted.replace('  count               = local.create ? 1 : 0', '  count = local.create ? 1 : 0'),
    );

    const result = await validateTerraform(copy, tooling, ['staging']);
    assert.deepEqual(result.format, ['modules/database/main.tf']);
    const problems = result.environments.staging ?? [];
    assert.ok(
      problems.some((p) => /^modules\/database\/main\.tf:\d+: Invalid (for_each|count) argument: .*sensitive/s.test(p)),
      `expected the sensitive for_each error in:\n${problems.join('\n')}`,
    );
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test('a file that does not parse fails', async () => {
  const report = await checkTerraform(path.join(fixtures, 'unparseable'));
  assertMentions(report.parse, /main\.tf: does not parse/);
});

test('the project rules Terraform does not know (least privilege, secrets, exposure, alarms...) hold, and each planted break is found', async () => {
  assert.deepEqual(await checkTerraform(path.join(root, 'terraform')), { parse: [], rules: [] });
  const { rules } = await checkTerraform(path.join(fixtures, 'broken'));
  for (const expected of [
    /local\.services has no poller/,
    /no log group \(aws_cloudwatch_log_group\) per service/,
    /no alarm \(aws_cloudwatch_metric_alarm\) per service/,
    /no task and execution roles/,
    /container logs do not go to CloudWatch/,
    /deployments do not roll back/,
    /call: TWILIO_ACCOUNT_SIDE is not a variable it reads/,
    /gateway: JWT_SECRET looks secret but is plain environment/,
    /wildcard action sqs:\*/,
    /Resource "\*" for sqs:\*, sqs:DeleteMessage/,
    // The call service consumes its webhook queue (DeleteMessage is allowed); purging a queue never is.
    /call may not sqs:PurgeQueue \(least privilege\)/,
    /aws_sqs_queue\.main has no redrive policy/,
    /aws_vpc_security_group_ingress_rule\.ssh: open to the internet/,
    /idle_timeout 60 cuts quiet SSE\/WebSocket/,
    /WAF has no managed rule group/,
    /no HTTPS listener/,
    /no CloudWatch alarm for DLQ not empty/,
    /aws_db_instance\.db storage is not encrypted/,
    /aws_elasticache_replication_group\.redis: transit_encryption_enabled is not true/,
    /aws_sqs_queue\.main is not encrypted/,
    /provider "aws" has no default_tags with Environment/,
    // The web console (issue 21): private bucket, uncached API, security headers, edge WAF.
    /data\.aws_iam_policy_document\.console_bucket allows everyone \(a public bucket\)/,
    /aws_cloudfront_distribution\.console: S3 origin bucket without origin access control/,
    /aws_cloudfront_distribution\.console: no WAF \(web_acl_id\)/,
    /no WAF web ACL with scope CLOUDFRONT/,
    /aws_cloudfront_distribution\.console: custom error responses apply to every origin/,
    /response headers policy lacks CSP frame-ancestors 'none', HSTS \(a year or more, includeSubDomains\), X-Frame-Options DENY, Referrer-Policy/,
    /aws_cloudfront_distribution\.console: \/mcp\* is cached \(cache policy Managed-CachingOptimized/,
    /aws_cloudfront_distribution\.console: \/mcp\* refuses POST/,
    /aws_cloudfront_distribution\.console: \/mcp\* forwards no viewer headers/,
    /aws_cloudfront_distribution\.console: no behaviour for \/\.well-known\/\* \(to the ALB\)/,
    /no CloudWatch alarm for the console distribution's 5xx rate/,
  ]) {
    assertMentions(rules, expected);
  }
});

test("the console's CloudFront headers policy sends the same CSP as npm start's console host, with the production origins", async () => {
  const text = readFileSync(path.join(root, 'terraform/modules/console/headers.tf'), 'utf8');
  const parts = /console_csp = join\("; ", \[([\s\S]*?)\]\)/.exec(text)?.[1];
  assert.ok(parts, 'modules/console/headers.tf no longer builds local.console_csp with join("; ", [...])');
  const api = 'https://mcp.example.com';
  const recordings = 'https://callgate-recordings.s3.eu-west-1.amazonaws.com';
  const terraformCsp = [...parts.matchAll(/"((?:[^"\\]|\\.)*)"/g)]
    .map((m) =>
      (m[1] as string).replaceAll(`\${local.api_origin}`, api).replaceAll(`\${var.recordings_origin}`, recordings),
    )
    .join('; ');
  // Production: the gateway and the authorization server share the public host; recordings play from the bucket.
  assert.equal(terraformCsp, consoleCsp({ gateway: api, auth: api, media: [recordings] }));
  const stack = readFileSync(path.join(root, 'terraform/modules/stack/console.tf'), 'utf8');
  assert.match(
    stack,
    /recordings_origin\s*= "https:\/\/\$\{module\.recordings\.bucket_name\}\.s3\.\$\{var\.region\}\.amazonaws\.com"/,
  );
  assert.match(text, /access_control_max_age_sec = 63072000/);
  assert.match(text, /preload\s+= true/);
});

test("the console's CloudFront Function rewrites the SPA's routes to index.html and leaves files alone, like npm start's host", () => {
  const code = readFileSync(path.join(root, 'terraform/modules/console/spa-routes.js'), 'utf8');
  const context: { handler?: (event: unknown) => { uri: string } } = {};
  runInNewContext(`${code}\nthis.handler = handler;`, context);
  const rewrite = (uri: string) => context.handler?.({ request: { uri, method: 'GET', headers: {} } }).uri;
  for (const route of ['/', '/calls', '/calls/CA0123', '/callback', '/settings/', '/apps/tokens'])
    assert.equal(rewrite(route), '/index.html', route);
  for (const file of [
    '/index.html',
    '/console-config.json',
    '/favicon.svg',
    '/assets/index-3f9a1c.js',
    '/assets/nothing',
  ])
    assert.equal(rewrite(file), file, file);
});
