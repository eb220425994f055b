/**
 * docker-compose.yml against the Compose Specification's JSON schema (vendored from compose-spec, via the
 * docker-compose npm package: scripts/deploy-checks/schemas/compose-spec.json), then the rules the stack
 * relies on: every part present, every dependency waited for until healthy, every service with a health
 * check, callgate environment variables that the services really read, and .env.example covering every
 * variable compose interpolates without a default.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { RUNTIME_VARIABLES, SERVICE_VARIABLES, unknownVariables } from './config-variables.js';

// The schema names its draft-07 meta-schema by an https URL ajv does not register; ajv is draft-07 anyway.
const { $schema: _draft, ...schema } = JSON.parse(
  readFileSync(path.join(import.meta.dirname, 'schemas/compose-spec.json'), 'utf8'),
);
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validateSchema = ajv.compile(schema);

const REQUIRED = [
  'postgres',
  'redis',
  'sqs',
  'sandbox',
  'gateway',
  'call',
  'user-credit',
  'sheets-sync',
  'poller',
  'prometheus',
  'grafana',
];

interface ComposeService {
  build?: string | { args?: Record<string, string> };
  image?: string;
  healthcheck?: { test?: unknown; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, string> | string[];
  volumes?: (string | { type?: string; source?: string })[];
}

/** `contextRoot`: the directory compose resolves relative bind mounts against (the repository root). */
export function checkCompose(composeText: string, envExample: string, contextRoot: string): string[] {
  const doc = parse(composeText, { merge: true }) as { services?: Record<string, ComposeService> };
  const problems: string[] = [];
  if (!validateSchema(doc)) {
    for (const e of validateSchema.errors ?? [])
      problems.push(`schema: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  }
  const services = doc.services ?? {};
  for (const name of REQUIRED) if (!services[name]) problems.push(`service ${name} is missing`);

  // A service built from our Dockerfile inherits its HEALTHCHECK; everything else must declare one.
  const healthy = (s: ComposeService) => Boolean(s.build) || Boolean(s.healthcheck?.test && !s.healthcheck.disable);
  for (const [name, service] of Object.entries(services)) {
    if (!healthy(service)) problems.push(`${name}: no healthcheck`);
    const deps = service.depends_on ?? {};
    if (Array.isArray(deps)) {
      problems.push(`${name}: depends_on as a list starts it before its dependencies are healthy`);
      continue;
    }
    for (const [dep, rule] of Object.entries(deps)) {
      if (!services[dep]) problems.push(`${name}: depends on unknown service ${dep}`);
      if (rule.condition !== 'service_healthy')
        problems.push(`${name}: depends_on ${dep} without condition: service_healthy`);
    }
    const buildArgs = typeof service.build === 'object' ? service.build.args : undefined;
    if (buildArgs?.SERVICE) {
      const env = service.environment ?? {};
      const names = Array.isArray(env) ? env.map((e) => e.split('=')[0] as string) : Object.keys(env);
      problems.push(...unknownVariables(buildArgs.SERVICE, names));
    }
  }

  // Bind mounts (Prometheus rules, Grafana provisioning) must exist, or the container starts without them.
  for (const [name, service] of Object.entries(services)) {
    for (const volume of service.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
      if (source?.startsWith('.') && !existsSync(path.join(contextRoot, source)))
        problems.push(`${name}: mounts missing ${source}`);
    }
  }

  // ${VAR} without a default must come from .env (documented in .env.example); ${VAR:-x} may.
  const defined = new Set([...envExample.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string));
  const interpolated = new Set<string>();
  for (const m of composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)(:?[-?][^}]*)?\}/g)) {
    interpolated.add(m[1] as string);
    if (!m[2] && !defined.has(m[1] as string)) problems.push(`\${${m[1]}} has no default and is not in .env.example`);
  }
  // Every other .env.example entry reaches the services (env_file): it must be a variable one of them reads.
  const read = new Set([...Object.values(SERVICE_VARIABLES).flatMap((v) => [...v]), ...RUNTIME_VARIABLES]);
  for (const name of defined) {
    if (!interpolated.has(name) && !read.has(name)) problems.push(`.env.example: ${name} is read by no service`);
  }
  return problems;
}
