/**
 * The project's deployment rules, checked on the parsed Terraform: what the architecture and the issue
 * require (every service deployed with a task definition, log group, alarm and its own least-privilege
 * roles; secrets only from Secrets Manager; the DLQ wired by a redrive policy; nothing reachable from the
 * internet but the ALB on 80/443; HTTPS, stickiness, WAF, alarms to SNS, a private encrypted bucket; data
 * stores and queues encrypted; every environment tagging what it creates). `terraform validate` checks the
 * rest (references, arguments, types): see validate.ts.
 */
import path from 'node:path';
import { DEPLOYED_SERVICES, unknownVariables } from '../config-variables.js';
import { checkConsoleRules } from './console-rules.js';
import { blocks, type Hcl, labelled, locals, strings, type TfModule } from './parse.js';

/** What each service's code may do in AWS (task role); anything else is a least-privilege violation. */
export const TASK_ACTIONS: Record<string, string[]> = {
  // Receive, delete and change visibility: the webhook delivery worker consumes its own queue (iam.tf says which).
  call: [
    'sqs:SendMessage',
    'sqs:GetQueueAttributes',
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    's3:PutObject',
    's3:GetObject',
    // Recordings deleted on request and by the retention job; their KMS key (SSE-KMS).
    's3:DeleteObject',
    'kms:GenerateDataKey',
    'kms:Decrypt',
  ],
  poller: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:GetQueueAttributes',
    'sqs:SendMessage',
  ],
  // Account mail (confirmation, password reset) through SES.
  auth: ['ses:SendEmail'],
};
/** Actions without resource-level permissions, the only ones allowed on Resource "*". */
const ACCOUNT_WIDE_ACTIONS = new Set([
  'ecr:GetAuthorizationToken',
  // The ADOT collector's export of traces to X-Ray (modules/ecs-service/iam.tf).
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
]);
/** Variables that carry credentials: DATABASE_URL and REDIS_URL hold passwords. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PRIVATE_KEY|^DATABASE_URL$|^REDIS_URL$|SERVICE_ACCOUNT_JSON/;
const WORLD = /0\.0\.0\.0\/0|::\/0/;

interface Found {
  module: TfModule;
  type: string;
  name: string;
  body: Hcl;
  file: string;
}

const unwrap = (v: unknown) => (typeof v === 'string' ? v.replace(/^\$\{([\s\S]*)\}$/, '$1').trim() : v);

/** A literal, or the default of the variable it names (enough for this repository's simple indirections). */
function resolve(module: TfModule, value: unknown): unknown {
  const expr = unwrap(value);
  const variable = typeof expr === 'string' ? /^var\.([\w-]+)$/.exec(expr) : null;
  if (variable) return labelled(module, 'variable').get(variable[1] as string)?.default;
  return expr;
}

/** Upper-case keys of an object, or of the object literals and local.* objects inside a merge(...) expression. */
function objectKeys(module: TfModule, value: unknown): string[] {
  if (value && typeof value === 'object' && !Array.isArray(value)) return Object.keys(value);
  if (typeof value !== 'string') return [];
  const keys = [...value.matchAll(/\b([A-Z][A-Z0-9_]*)\s*=/g)].map((m) => m[1] as string);
  for (const m of value.matchAll(/local\.([\w-]+)/g))
    keys.push(...objectKeys(module, locals(module).get(m[1] as string)));
  return keys;
}

export function checkRules(modules: TfModule[], root: string): string[] {
  const problems: string[] = [];
  const all = (kind: 'resource' | 'data', type?: string): Found[] =>
    modules.flatMap((module) =>
      blocks(module, kind)
        .filter((b) => !type || b.type === type)
        .map((b) => ({ module, ...b })),
    );
  const rel = (f: string) => path.relative(root, f);
  const byDir = (suffix: string) => modules.find((m) => m.dir.endsWith(suffix));

  // --- every service deployed, each with its own task definition, log group, alarm and roles ---
  const stack = modules.find((m) => locals(m).has('services') && labelled(m, 'module').has('service'));
  if (!stack) return ['no module defines local.services and a module "service" (the per-service deployment)'];
  const services = locals(stack).get('services') as Record<string, Hcl>;
  for (const name of DEPLOYED_SERVICES)
    if (!services[name]) problems.push(`${rel(stack.dir)}: local.services has no ${name}`);
  const call = labelled(stack, 'module').get('service') as Hcl;
  if (unwrap(call.for_each) !== 'local.services')
    problems.push(`${rel(stack.dir)}: module.service is not for_each = local.services`);
  const serviceModule = modules.find((m) => m.dir === path.resolve(stack.dir, String(call.source)));
  if (!serviceModule) return [...problems, `module.service source ${call.source} not found`];
  const has = (type: string, min = 1) => blocks(serviceModule, 'resource').filter((b) => b.type === type).length >= min;
  for (const [type, min, why] of [
    ['aws_ecs_task_definition', 1, 'task definition'],
    ['aws_ecs_service', 1, 'ECS service'],
    ['aws_cloudwatch_log_group', 1, 'log group'],
    ['aws_cloudwatch_metric_alarm', 1, 'alarm'],
    ['aws_iam_role', 2, 'task and execution roles'],
    ['aws_security_group', 1, 'security group'],
    ['aws_appautoscaling_policy', 1, 'autoscaling'],
  ] as const) {
    if (!has(type, min)) problems.push(`${rel(serviceModule.dir)}: no ${why} (${type}) per service`);
  }
  for (const t of blocks(serviceModule, 'resource').filter((b) => b.type === 'aws_ecs_task_definition')) {
    const defs = String(t.body.container_definitions);
    if (!/awslogs/.test(defs)) problems.push(`${rel(t.file)}: container logs do not go to CloudWatch (awslogs)`);
    if (!/readonlyRootFilesystem\s*=\s*true/.test(defs))
      problems.push(`${rel(t.file)}: root file system is not read-only`);
  }
  for (const s of blocks(serviceModule, 'resource').filter((b) => b.type === 'aws_ecs_service')) {
    if (!s.body.service_connect_configuration) problems.push(`${rel(s.file)}: no Service Connect (gRPC discovery)`);
    if (s.body.deployment_circuit_breaker?.[0]?.rollback !== true)
      problems.push(`${rel(s.file)}: deployments do not roll back on failure`);
    if (s.body.network_configuration?.[0]?.assign_public_ip !== false)
      problems.push(`${rel(s.file)}: tasks get public IPs`);
  }

  // --- environment: real variables only, secrets never in plain environment ---
  for (const [name, service] of Object.entries(services)) {
    const env = objectKeys(stack, service.environment);
    const secrets = objectKeys(stack, service.secrets);
    problems.push(...unknownVariables(name, [...env, ...secrets]).map((p) => `${rel(stack.dir)}: ${p}`));
    for (const key of env.filter((k) => SECRET_NAME.test(k))) {
      problems.push(`${rel(stack.dir)}: ${name}: ${key} looks secret but is plain environment (use secrets)`);
    }
  }

  // --- least privilege ---
  const documents = new Map(
    all('data', 'aws_iam_policy_document').map((d) => [`data.aws_iam_policy_document.${d.name}`, d]),
  );
  for (const d of documents.values()) {
    for (const st of (d.body.statement ?? []) as Hcl[]) {
      if (st.effect === 'Deny') continue;
      const actions = strings(st.actions);
      const where = `${rel(d.file)}: data.aws_iam_policy_document.${d.name}`;
      for (const a of actions.filter((a) => a.includes('*'))) problems.push(`${where}: wildcard action ${a}`);
      if (strings(st.resources).includes('*') && !actions.every((a) => ACCOUNT_WIDE_ACTIONS.has(a))) {
        problems.push(`${where}: Resource "*" for ${actions.join(', ')}`);
      }
    }
  }
  for (const [name, service] of Object.entries(services)) {
    const policy = unwrap(service.task_policy_json);
    if (policy === null || policy === undefined) continue;
    const doc = documents.get(String(policy).replace(/\.json$/, ''));
    if (!doc) {
      problems.push(`${rel(stack.dir)}: ${name}: task policy ${policy} is not a policy document in this repository`);
      continue;
    }
    const allowed = new Set(TASK_ACTIONS[name] ?? []);
    for (const st of (doc.body.statement ?? []) as Hcl[]) {
      for (const a of strings(st.actions).filter((a) => !allowed.has(a)))
        problems.push(`${rel(doc.file)}: ${name} may not ${a} (least privilege)`);
    }
  }
  for (const a of all('resource', 'aws_iam_role_policy_attachment')) {
    if (/FullAccess|AdministratorAccess|PowerUser/.test(String(a.body.policy_arn)))
      problems.push(`${rel(a.file)}: ${a.name} attaches ${a.body.policy_arn}`);
  }

  // --- queue: the main queue dead-letters into the DLQ ---
  const queues = all('resource', 'aws_sqs_queue');
  const dlqs = queues.filter((q) => /dlq/.test(q.name) || /-dlq/.test(String(q.body.name)));
  if (dlqs.length === 0) problems.push('no dead-letter queue (aws_sqs_queue named *dlq*)');
  for (const q of queues.filter((q) => !dlqs.includes(q))) {
    const redrive = String(q.body.redrive_policy ?? '');
    if (!/deadLetterTargetArn\s*=\s*aws_sqs_queue\.\w+\.arn/.test(redrive) || !/maxReceiveCount/.test(redrive)) {
      problems.push(`${rel(q.file)}: aws_sqs_queue.${q.name} has no redrive policy to the DLQ`);
    }
  }

  // --- network exposure: only the ALB, only on 80/443, is open to the internet ---
  for (const r of all('resource', 'aws_vpc_security_group_ingress_rule')) {
    const text = JSON.stringify(r.body);
    const where = `${rel(r.file)}: aws_vpc_security_group_ingress_rule.${r.name}`;
    if (WORLD.test(text)) {
      const alb = /aws_security_group\.alb\.id/.test(String(r.body.security_group_id));
      const ports = [resolve(r.module, r.body.from_port), resolve(r.module, r.body.to_port)];
      if (!alb || !ports.every((p) => p === 80 || p === 443) || ports[0] !== ports[1])
        problems.push(`${where}: open to the internet`);
    } else if (!r.body.referenced_security_group_id) {
      problems.push(`${where}: ingress by CIDR instead of from a security group`);
    }
  }
  for (const g of all('resource', 'aws_security_group').filter((g) => g.body.ingress)) {
    problems.push(`${rel(g.file)}: aws_security_group.${g.name} has inline ingress (use ingress rule resources)`);
  }
  for (const r of [
    ...all('resource', 'aws_db_instance'),
    ...all('resource', 'aws_lb').filter((l) => l.body.internal !== false),
  ]) {
    if (r.body.publicly_accessible === true) problems.push(`${rel(r.file)}: ${r.type}.${r.name} is public`);
  }

  // --- the public entry: HTTPS, stickiness, WebSocket-friendly idle timeout, WAF ---
  const alb = byDir(`${path.sep}alb`);
  const listeners = all('resource', 'aws_lb_listener');
  if (!listeners.some((l) => l.body.protocol === 'HTTPS' && l.body.certificate_arn))
    problems.push('no HTTPS listener with a certificate');
  for (const l of all('resource', 'aws_lb')) {
    const idle = resolve(l.module, l.body.idle_timeout);
    if (typeof idle !== 'number' || idle < 300)
      problems.push(`${rel(l.file)}: idle_timeout ${idle} cuts quiet SSE/WebSocket connections (< 300 s)`);
  }
  const gatewayTg = all('resource', 'aws_lb_target_group').find((t) => t.name === 'gateway');
  if (!gatewayTg) problems.push('no target group "gateway"');
  else {
    if (gatewayTg.body.stickiness?.[0]?.enabled !== true)
      problems.push(`${rel(gatewayTg.file)}: gateway target group without stickiness (MCP sessions)`);
    if (!gatewayTg.body.health_check?.[0]?.path)
      problems.push(`${rel(gatewayTg.file)}: gateway target group without a health check path`);
  }
  const acls = all('resource', 'aws_wafv2_web_acl');
  const aclText = JSON.stringify(acls.map((a) => a.body));
  if (!/managed_rule_group_statement/.test(aclText)) problems.push('WAF has no managed rule group');
  if (!/rate_based_statement/.test(aclText)) problems.push('WAF has no rate-based rule');
  if (all('resource', 'aws_wafv2_web_acl_association').length === 0)
    problems.push('WAF is not associated with the ALB');
  if (!alb) problems.push('no modules/alb');

  // --- alarms, all to SNS ---
  const alarms = all('resource', 'aws_cloudwatch_metric_alarm');
  const alarmText = (a: Found) => JSON.stringify(a.body);
  for (const [what, pattern] of [
    ['DLQ not empty', /^(?=[\s\S]*ApproximateNumberOfMessagesVisible)(?=[\s\S]*\.dlq\.)/],
    ['queue age', /ApproximateAgeOfOldestMessage/],
    ['5xx rate', /5XX/],
    ['task restarts / running tasks', /RunningTaskCount/],
  ] as const) {
    if (!alarms.some((a) => pattern.test(alarmText(a)))) problems.push(`no CloudWatch alarm for ${what}`);
  }
  for (const a of alarms.filter((a) => !/sns|topic/i.test(String(a.body.alarm_actions)))) {
    problems.push(`${rel(a.file)}: aws_cloudwatch_metric_alarm.${a.name} notifies nobody (alarm_actions → SNS)`);
  }

  // --- encryption at rest (and in transit for Redis, whose AUTH token would otherwise travel in clear) ---
  for (const r of all('resource', 'aws_db_instance').filter((r) => r.body.storage_encrypted !== true))
    problems.push(`${rel(r.file)}: aws_db_instance.${r.name} storage is not encrypted`);
  for (const r of all('resource', 'aws_elasticache_replication_group')) {
    for (const key of ['at_rest_encryption_enabled', 'transit_encryption_enabled'])
      if (r.body[key] !== true)
        problems.push(`${rel(r.file)}: aws_elasticache_replication_group.${r.name}: ${key} is not true`);
  }
  for (const q of queues.filter((q) => q.body.sqs_managed_sse_enabled !== true && !q.body.kms_master_key_id))
    problems.push(`${rel(q.file)}: aws_sqs_queue.${q.name} is not encrypted (sqs_managed_sse_enabled or a KMS key)`);

  // --- tags: every environment's provider tags everything it creates (default_tags) ---
  const providers = modules.flatMap((m) =>
    m.files.flatMap(({ hcl, file }) => ((hcl.provider?.aws ?? []) as Hcl[]).map((body) => ({ body, file }))),
  );
  if (providers.length === 0) problems.push('no provider "aws" block (an environment must configure default_tags)');
  for (const p of providers.filter((p) => !/Environment/.test(JSON.stringify(p.body.default_tags ?? null))))
    problems.push(`${rel(p.file)}: provider "aws" has no default_tags with Environment`);

  // --- recordings: private, encrypted, expiring ---
  for (const [type, what] of [
    ['aws_s3_bucket_public_access_block', 'public access block'],
    ['aws_s3_bucket_server_side_encryption_configuration', 'encryption'],
    ['aws_s3_bucket_lifecycle_configuration', 'lifecycle'],
  ] as const) {
    if (all('resource', type).length < all('resource', 'aws_s3_bucket').length)
      problems.push(`an S3 bucket has no ${what}`);
  }
  for (const b of all('resource', 'aws_s3_bucket_public_access_block')) {
    for (const key of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) {
      if (b.body[key] !== true) problems.push(`${rel(b.file)}: ${key} is not true`);
    }
  }

  // --- the web console: private bucket, uncached API paths, security headers, edge WAF (console-rules.ts) ---
  problems.push(...checkConsoleRules(modules, root));
  return problems;
}
