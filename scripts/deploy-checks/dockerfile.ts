/**
 * Lints the Dockerfile with dockerfile-utils (the validator of the VS Code Docker extension) and checks the
 * rules the deployment relies on: Node 24 slim base, a non-root user, a HEALTHCHECK, tini as PID 1 (so
 * SIGTERM reaches Node and ECS stops drain gracefully), that every COPY from the build context names
 * files that exist and that .dockerignore lets through (the classic "works locally, COPY fails in CI"),
 * and that each stage running `npm ci` has every workspace's package.json first (else that workspace's
 * dependencies are silently left out of the image, and the service fails at start in production only).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { validate } from 'dockerfile-utils';
import { isIgnored, parseDockerignore } from './dockerignore.js';

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions with continuation lines joined; comments and parser directives dropped. */
export function parseInstructions(content: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  content.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (!pending && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending && line.trimStart().startsWith('#')) return;
    const text = line.endsWith('\\') ? line.slice(0, -1) : line;
    pending = pending ? { text: `${pending.text} ${text.trim()}`, line: pending.line } : { text, line: index + 1 };
    if (!line.endsWith('\\')) {
      const [keyword = '', ...rest] = pending.text.trim().split(/\s+/);
      out.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: pending.line });
      pending = undefined;
    }
  });
  return out;
}

function filesUnder(root: string, relative: string): string[] {
  const full = path.join(root, relative);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .map((f) => path.posix.join(relative.replace(/\/$/, ''), f.split(path.sep).join('/')))
    .filter((f) => statSync(path.join(root, f)).isFile());
}

export function checkDockerfile(content: string, dockerignore: string, contextRoot: string): string[] {
  const problems = validate(content).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  const instructions = parseInstructions(content);
  const args = new Map<string, string>();
  for (const i of instructions.filter((i) => i.keyword === 'ARG')) {
    const [name, value] = i.args.split('=');
    if (name && value !== undefined) args.set(name, value);
  }
  const expand = (s: string) => s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a, b) => args.get(a ?? b) ?? '');

  const stages = instructions.flatMap((i, index) => (i.keyword === 'FROM' ? [index] : []));
  if (stages.length < 2) problems.push('not a multi-stage build (build with dev dependencies, run without)');
  const stageNames = new Set(instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(/\s+AS\s+/i)[1]));
  for (const index of stages) {
    const from = instructions[index] as Instruction;
    const image = expand(from.args.split(/\s+/)[0] as string);
    if (stageNames.has(image)) continue;
    if (!/^node:24[\w.-]*-slim$/.test(image)) problems.push(`line ${from.line}: base ${image} is not node:24 *-slim`);
  }
  const final = instructions.slice(stages.at(-1) ?? 0);
  const last = (keyword: string) => final.filter((i) => i.keyword === keyword).at(-1);
  const user = last('USER');
  if (!user || /^(root|0)(:|$)/.test(user.args)) problems.push('final stage runs as root (add USER node)');
  if (!last('HEALTHCHECK') || /^NONE$/i.test(last('HEALTHCHECK')?.args ?? ''))
    problems.push('no HEALTHCHECK in the final stage');
  const entry = `${last('ENTRYPOINT')?.args ?? ''} ${last('CMD')?.args ?? ''}`;
  if (!/tini|dumb-init|--init/.test(entry)) problems.push('PID 1 is not an init (tini): SIGTERM would not reach Node');
  for (const i of instructions) {
    if (i.keyword === 'ADD' && /https?:\/\//.test(i.args))
      problems.push(`line ${i.line}: ADD from a URL (unverified download)`);
    if (/(^|\s)[^\s]*:latest\b/.test(i.args) && i.keyword === 'FROM') problems.push(`line ${i.line}: :latest tag`);
  }

  // Every COPY from the context must name files that exist and survive .dockerignore.
  const ignore = parseDockerignore(dockerignore);
  for (const i of instructions.filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))) {
    const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    for (const source of parts.slice(0, -1)) {
      const files = filesUnder(contextRoot, source.replace(/^\.\//, ''));
      if (files.length === 0) problems.push(`line ${i.line}: COPY ${source}: no such file in the context`);
      else if (files.every((f) => isIgnored(ignore, f)))
        problems.push(`line ${i.line}: COPY ${source}: excluded by .dockerignore`);
    }
  }
  // Every workspace's manifest in every stage that installs, before the install.
  const manifest = path.join(contextRoot, 'package.json');
  const workspaces: string[] = existsSync(manifest)
    ? (JSON.parse(readFileSync(manifest, 'utf8')).workspaces ?? [])
    : [];
  stages.forEach((start, n) => {
    const stage = instructions.slice(start, stages[n + 1] ?? instructions.length);
    const install = stage.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    if (install < 0) return;
    const copied = stage
      .slice(0, install)
      .filter((i) => i.keyword === 'COPY')
      .map((i) => i.args);
    for (const workspace of workspaces) {
      const file = `${workspace}/package.json`;
      if (!copied.some((args) => args.includes(file)))
        problems.push(`line ${stage[install]?.line}: npm ci without ${file} (its dependencies are left out)`);
    }
  });
  for (const secret of ['.env', '.data/pglite', 'node_modules/typescript/package.json']) {
    if (!isIgnored(ignore, secret)) problems.push(`.dockerignore lets ${secret} into the build context`);
  }
  return problems;
}
