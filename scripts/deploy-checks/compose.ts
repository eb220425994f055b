/**
 * docker-compose.yml against the Compose Specification's JSON schema (vendored from compose-spec, via the
 * docker-compose npm package: scripts/deploy-checks/schemas/compose-spec.json), then the rules the stack
 * relies on: every part present, every dependency waited for until healthy, every service with a health
 * check, callgate environment variables that the services really read, .env.example covering every
 * variable compose interpolates without a default, and nothing exposed: ports published on loopback only,
 * no credential with a default value (in the file or in .env.example), no Prometheus admin endpoints.
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
  'auth',
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
  ports?: (string | number | { published?: string | number; host_ip?: string })[];
  command?: string | string[];
}

/** Names of variables and environment keys that hold credentials. */
const CREDENTIAL = /PASSWORD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL/;
const INTERPOLATION = /\$\{([A-Za-z_][A-Za-z0-9_]*)((:?[-?])([^}]*))?\}/g;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[?::1\]?|localhost)$/;

/** The host address a `ports` entry binds to ('' when none is given, i.e. every interface). */
export function publishedHost(entry: string | number | { host_ip?: string }): string {
  if (typeof entry === 'number') return '';
  if (typeof entry === 'object') return entry.host_ip ?? '';
  // ${VAR:-8080} holds colons of its own: interpolations count as one opaque part.
  const text = entry.replace(INTERPOLATION, (m) => (m.includes(':') || m.includes('-') ? '$VAR' : m));
  const ipv6 = /^\[([^\]]*)\]:/.exec(text);
  if (ipv6) return `[${ipv6[1]}]`;
  const parts = text.split(':');
  return parts.length >= 3 ? (parts[0] as string) : '';
}

/** Ports on every interface, credentials with a default, Prometheus' lifecycle (quit/reload) API. */
export function checkExposure(composeText: string, envExample: string): string[] {
  const doc = parse(composeText, { merge: true }) as { services?: Record<string, ComposeService> };
  const problems: string[] = [];
  for (const [name, service] of Object.entries(doc.services ?? {})) {
    for (const entry of service.ports ?? []) {
      const host = publishedHost(entry);
      if (!LOOPBACK.test(host))
        problems.push(
          `${name}: port ${JSON.stringify(entry)} is published on ${host || 'every interface'} (bind 127.0.0.1)`,
        );
    }
    const env = service.environment ?? {};
    const pairs = Array.isArray(env)
      ? env.map((e) => [e.split('=')[0] as string, e.slice(e.indexOf('=') + 1)] as const)
      : Object.entries(env).map(([k, v]) => [k, String(v ?? '')] as const);
    for (const [key, value] of pairs) {
      if (CREDENTIAL.test(key) && value.replace(INTERPOLATION, '').trim() !== '')
        problems.push(`${name}: ${key} is a credential written into the file`);
    }
    const command = Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '');
    if (/--web\.enable-(lifecycle|admin-api)/.test(command))
      problems.push(
        `${name}: ${/--web\.enable-\S+/.exec(command)?.[0]} lets whoever reaches it stop or wipe Prometheus`,
      );
  }
  const credentials = new Set<string>();
  for (const m of composeText.matchAll(INTERPOLATION)) {
    const [text, variable, , operator, fallback] = m;
    if (!CREDENTIAL.test(variable as string)) continue;
    credentials.add(variable as string);
    if (!operator?.endsWith('?')) {
      problems.push(
        `${text}: a credential ${operator ? `with the default "${fallback}"` : 'that may be empty'} (use \${${variable}:?...})`,
      );
    }
  }
  for (const m of envExample.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)) {
    if (credentials.has(m[1] as string) && (m[2] as string).trim() !== '')
      problems.push(`.env.example: ${m[1]} has a value, which cp .env.example .env makes a default credential`);
  }
  return problems;
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
  problems.push(...checkExposure(composeText, envExample));
  return problems;
}
