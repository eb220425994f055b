/**
 * Terraform modules as data: every directory with .tf files, each file parsed by @cdktf/hcl2json (the HCL
 * parser of Terraform, compiled to WebAssembly). A file that does not parse is a problem of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';

// hcl2json's shape: blocks are arrays of objects keyed by type and name, attributes are values.
// biome-ignore lint/suspicious/noExplicitAny: parsed HCL is arbitrary JSON
export type Hcl = Record<string, any>;

export interface TfFile {
  file: string;
  text: string;
  hcl: Hcl;
}

export interface TfModule {
  dir: string;
  files: TfFile[];
}

export function moduleDirs(root: string): string[] {
  const dirs = new Set<string>();
  for (const f of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (f.endsWith('.tf') && !f.split(path.sep).includes('.terraform')) dirs.add(path.join(root, path.dirname(f)));
  }
  return [...dirs].sort();
}

export async function loadModule(dir: string): Promise<{ module: TfModule; problems: string[] }> {
  const files: TfFile[] = [];
  const problems: string[] = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .sort()) {
    const file = path.join(dir, name);
    const text = readFileSync(file, 'utf8');
    try {
      files.push({ file, text, hcl: await parse(name, text) });
    } catch (error) {
      problems.push(`${file}: does not parse: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { module: { dir, files }, problems };
}

/** `block "a" "b" {}` entries of a kind across a module's files: [type, name, body]. */
export function blocks(
  module: TfModule,
  kind: 'resource' | 'data',
): { type: string; name: string; body: Hcl; file: string }[] {
  return module.files.flatMap(({ hcl, file }) =>
    Object.entries((hcl[kind] ?? {}) as Hcl).flatMap(([type, byName]) =>
      Object.entries(byName as Hcl).flatMap(([name, bodies]) =>
        (bodies as Hcl[]).map((body) => ({ type, name, body, file })),
      ),
    ),
  );
}

/** `variable`, `output`, `module` blocks (one label): name => body. */
export function labelled(
  module: TfModule,
  kind: 'variable' | 'output' | 'module',
): Map<string, Hcl & { file: string }> {
  const out = new Map<string, Hcl & { file: string }>();
  for (const { hcl, file } of module.files) {
    for (const [name, bodies] of Object.entries((hcl[kind] ?? {}) as Hcl))
      out.set(name, { ...(bodies as Hcl[])[0], file });
  }
  return out;
}

export function locals(module: TfModule): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const { hcl } of module.files)
    for (const l of (hcl.locals ?? []) as Hcl[]) for (const [k, v] of Object.entries(l)) out.set(k, v);
  return out;
}

/** Every string in a parsed value (expressions are "${...}" strings). */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}
