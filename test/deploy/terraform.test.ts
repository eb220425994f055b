import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { checkTerraform } from '../../scripts/deploy-checks/terraform/index.js';

const root = path.resolve(import.meta.dirname, '../..');
const schema = path.join(root, 'terraform/aws-provider-schema.json');
const fixtures = path.join(root, 'test/deploy/fixtures/terraform');

const assertMentions = (problems: string[], expected: RegExp) =>
  assert.ok(
    problems.some((p) => expected.test(p)),
    `expected ${expected} in:\n${problems.join('\n')}`,
  );

test('terraform/ parses, is fmt-clean, its references resolve, its arguments exist and it keeps the rules', async () => {
  const report = await checkTerraform(path.join(root, 'terraform'), schema);
  assert.deepEqual(report, { parse: [], format: [], references: [], schema: [], rules: [] });
});

test('a file that does not parse fails', async () => {
  const report = await checkTerraform(path.join(fixtures, 'unparseable'), schema);
  assertMentions(report.parse, /main\.tf: does not parse/);
});

test('planted formatting, reference, schema and rule mistakes are each found', async () => {
  const { format, references, schema: arguments_, rules } = await checkTerraform(path.join(fixtures, 'broken'), schema);
  assertMentions(format, /stack\/main\.tf:53: "=" not aligned/);
  assertMentions(format, /stack\/main\.tf:60: indented 4, expected 2/);

  assertMentions(references, /var\.prefix is not declared/);
  assertMentions(references, /local\.tag is not defined/);
  assertMentions(references, /resource aws_subnet\.missing is not declared/);
  assertMentions(references, /module\.service\.security_group_id: \.\.\/modules\/svc has no output security_group_id/);
  assertMentions(references, /module\.service passes nmae, which \.\.\/modules\/svc does not declare/);
  assertMentions(references, /module\.service does not pass required variable image/);

  assertMentions(arguments_, /has no resource type aws_sqs_queues/);
  assertMentions(arguments_, /aws_ecs_task_definition\.this: unknown argument cpu_units/);
  assertMentions(arguments_, /aws_iam_role\.task: missing required argument assume_role_policy/);
  assertMentions(arguments_, /aws_ecs_service\.this: network_configuration has no argument subnet/);

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
    /call may not sqs:DeleteMessage \(least privilege\)/,
    /aws_sqs_queue\.main has no redrive policy/,
    /aws_vpc_security_group_ingress_rule\.ssh: open to the internet/,
    /idle_timeout 60 cuts quiet SSE\/WebSocket/,
    /WAF has no managed rule group/,
    /no HTTPS listener/,
    /no CloudWatch alarm for DLQ not empty/,
  ]) {
    assertMentions(rules, expected);
  }
});
