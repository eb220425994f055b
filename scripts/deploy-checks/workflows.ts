/**
 * GitHub Actions workflows: parsed, then held to what the deployment needs. Pull requests install, lint,
 * type-check and test against PostgreSQL and Redis service containers; main builds and pushes images,
 * plans staging, deploys staging, and deploys production only after it and behind the `production`
 * environment (manual approval); AWS access only through OIDC (id-token: write + role-to-assume), never
 * stored keys; every action pinned to a release; every `needs` and `needs.<job>.outputs` resolvable.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  uses?: string;
  services?: Record<string, unknown>;
  steps?: Step[];
  environment?: string | { name?: string };
  permissions?: Record<string, string>;
  outputs?: Record<string, string>;
}
interface Workflow {
  on?: unknown;
  permissions?: Record<string, string>;
  jobs?: Record<string, Job>;
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const triggers = (on: unknown) => (typeof on === 'string' ? [on] : Array.isArray(on) ? on : Object.keys(on ?? {}));
const envName = (job: Job) => (typeof job.environment === 'string' ? job.environment : job.environment?.name);

/** Jobs a job depends on, transitively. */
function ancestors(jobs: Record<string, Job>, name: string, seen = new Set<string>()): Set<string> {
  for (const need of list(jobs[name]?.needs)) {
    if (!seen.has(need)) {
      seen.add(need);
      ancestors(jobs, need, seen);
    }
  }
  return seen;
}

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** The services that run in ECS: each folder with a src/main.ts, but the sandbox (local runs only). */
export function deployedServices(): string[] {
  return readdirSync(path.join(repoRoot, 'services'), { withFileTypes: true })
    .filter(
      (d) =>
        d.isDirectory() && d.name !== 'sandbox' && existsSync(path.join(repoRoot, 'services', d.name, 'src/main.ts')),
    )
    .map((d) => d.name)
    .sort();
}

export function loadWorkflows(dir: string): Record<string, { text: string; workflow: Workflow }> {
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => {
        const text = readFileSync(path.join(dir, f), 'utf8');
        return [f, { text, workflow: parse(text) as Workflow }];
      }),
  );
}

export function checkWorkflows(dir: string): string[] {
  const problems: string[] = [];
  const workflows = loadWorkflows(dir);
  const steps = (w: Workflow) => Object.values(w.jobs ?? {}).flatMap((j) => j.steps ?? []);
  const runs = (w: Workflow) =>
    steps(w)
      .map((s) => s.run ?? '')
      .join('\n');

  for (const [file, { text, workflow }] of Object.entries(workflows)) {
    const jobs = workflow.jobs ?? {};
    if (Object.keys(jobs).length === 0) problems.push(`${file}: no jobs`);
    for (const [name, job] of Object.entries(jobs)) {
      for (const need of list(job.needs)) if (!jobs[need]) problems.push(`${file}: ${name} needs unknown job ${need}`);
      if (job.uses?.startsWith('./') && !workflows[path.basename(job.uses)])
        problems.push(`${file}: ${name} calls missing ${job.uses}`);
    }
    for (const m of text.matchAll(/needs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      const output = jobs[m[1] as string]?.outputs?.[m[2] as string];
      if (!output) problems.push(`${file}: needs.${m[1]}.outputs.${m[2]} is not an output of job ${m[1]}`);
    }
    for (const step of steps(workflow)) {
      if (step.uses && !step.uses.startsWith('./') && !/@(v\d+(\.\d+)*|[0-9a-f]{40})$/.test(step.uses)) {
        problems.push(`${file}: ${step.uses} is not pinned to a release or commit`);
      }
    }
    if (/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID/.test(text)) {
      problems.push(`${file}: long-lived AWS keys (use OIDC: role-to-assume)`);
    }
    const usesAws = steps(workflow).some((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'));
    if (usesAws) {
      if (workflow.permissions?.['id-token'] !== 'write')
        problems.push(`${file}: AWS access without permissions id-token: write (OIDC)`);
      for (const s of steps(workflow).filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'))) {
        if (!s.with?.['role-to-assume']) problems.push(`${file}: configure-aws-credentials without role-to-assume`);
      }
    }
  }

  // Pull requests: install, lint, type-check, test with PostgreSQL and Redis.
  const pr = Object.entries(workflows).find(([, { workflow }]) => triggers(workflow.on).includes('pull_request'));
  if (!pr) problems.push('no workflow runs on pull_request');
  else {
    const [file, { workflow }] = pr;
    const script = runs(workflow);
    for (const [what, pattern] of [
      ['install', /npm ci/],
      ['lint', /npm run lint/],
      ['type-check', /npm run typecheck/],
      ['test', /npm test/],
    ] as const) {
      if (!pattern.test(script)) problems.push(`${file}: pull requests do not ${what}`);
    }
    const services = Object.values(workflow.jobs ?? {}).flatMap(
      (j) => Object.values(j.services ?? {}) as { image?: string }[],
    );
    for (const db of ['postgres', 'redis']) {
      if (!services.some((s) => s.image?.startsWith(db)))
        problems.push(`${file}: tests run without a ${db} service container`);
    }
  }

  // main: images to ECR, staging plan and deploy, then production behind approval.
  const main = Object.entries(workflows).find(([, { workflow }]) => {
    const on = workflow.on as { push?: { branches?: string[] } } | undefined;
    return on?.push?.branches?.includes('main');
  });
  if (!main) problems.push('no workflow runs on push to main');
  else {
    const [file, { text, workflow }] = main;
    const jobs = workflow.jobs ?? {};
    const jobWith = (pattern: RegExp) => Object.entries(jobs).find(([, j]) => pattern.test(JSON.stringify(j)))?.[0];
    const build = jobWith(/amazon-ecr-login[\s\S]*"push":true/);
    const plan = Object.entries(jobs).find(
      ([, j]) => /terraform plan/.test(runs({ jobs: { j } })) && !/apply/.test(runs({ jobs: { j } })),
    )?.[0];
    const staging = Object.entries(jobs).find(([, j]) => envName(j) === 'staging')?.[0];
    const production = Object.entries(jobs).find(([, j]) => envName(j) === 'production')?.[0];
    if (!build) problems.push(`${file}: no job builds and pushes images to ECR`);
    if (!plan || !/staging/.test(JSON.stringify(jobs[plan]))) problems.push(`${file}: no terraform plan for staging`);
    if (!staging) problems.push(`${file}: no job deploys to the staging environment`);
    if (!production) problems.push(`${file}: no job deploys to the production environment (manual approval)`);
    if (staging && plan && !ancestors(jobs, staging).has(plan))
      problems.push(`${file}: staging deploys without its plan`);
    if (staging && build && !ancestors(jobs, staging).has(build))
      problems.push(`${file}: staging deploys before the images are pushed`);
    if (production && staging && !ancestors(jobs, production).has(staging))
      problems.push(`${file}: production does not wait for staging`);
    if (!/terraform (apply|plan)[\s\S]*image_tag|image_tag[\s\S]*terraform apply/.test(text))
      problems.push(`${file}: deploys do not pass the image tag`);

    // Every service that runs in ECS has its image built and promoted: a service left out of either list
    // deploys a task definition whose image tag does not exist (auth was, until Dec 2026).
    for (const service of deployedServices()) {
      const matrix = JSON.stringify(build ? jobs[build] : {});
      if (!new RegExp(`"service":\\[[^\\]]*"${service}"`).test(matrix))
        problems.push(`${file}: the images job does not build ${service}`);
      if (!new RegExp(`for service in [^;\\n]*\\b${service}\\b`).test(text))
        problems.push(`${file}: production does not promote the ${service} image`);
    }

    // The web console: built once, then published by every deploy after its apply (the bucket and the
    // distribution are Terraform's): hashed assets immutable, the rest revalidated and pruned, this
    // environment's config, and CloudFront told to forget the files that name everything else.
    if (!Object.values(jobs).some((j) => /npm run build -w console/.test(runs({ jobs: { j } }))))
      problems.push(`${file}: no job builds the console (npm run build -w console)`);
    for (const name of [staging, production].filter((n): n is string => Boolean(n))) {
      const script = runs({ jobs: { j: jobs[name] as Job } });
      const where = `${file}: ${name}`;
      const sync = script.search(/aws s3 sync/);
      if (sync < 0) {
        problems.push(`${where} does not publish the console (aws s3 sync)`);
        continue;
      }
      if (sync < script.search(/terraform apply/))
        problems.push(`${where} publishes the console before terraform apply`);
      if (!/aws s3 sync[^\n]*--delete/.test(script))
        problems.push(`${where}: the console's sync does not --delete files gone from the build`);
      if (!/aws s3 sync[^\n]*assets[^\n]*max-age=31536000, immutable/.test(script))
        problems.push(`${where}: the console's hashed assets are not uploaded immutable`);
      if (!/aws s3 (sync|cp)[^\n]*no-cache/.test(script))
        problems.push(`${where}: index.html is not uploaded no-cache`);
      if (!/aws s3 cp[^\n]*console-config\.json/.test(script))
        problems.push(`${where} does not write console-config.json`);
      if (
        !/create-invalidation[^\n]*\/index\.html/.test(script) ||
        !/create-invalidation[^\n]*\/console-config\.json/.test(script)
      )
        problems.push(`${where}: no CloudFront invalidation of /index.html and /console-config.json`);
    }
  }
  return problems;
}
