/**
 * Every aws_* resource and data source against the AWS provider's schema (terraform/aws-provider-schema.json,
 * derived from @cdktf/provider-aws by derive-aws-schema.ts): the type exists, its top-level arguments and
 * blocks exist, required arguments are set, and the arguments inside its blocks exist (one level down).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProviderSchema, TypeSchema } from '../derive-aws-schema.js';
import { blocks, type Hcl, type TfModule } from './parse.js';

const META_ARGUMENTS = new Set([
  'count',
  'for_each',
  'depends_on',
  'lifecycle',
  'provider',
  'provisioner',
  'connection',
  'dynamic',
]);

export function loadProviderSchema(file: string): ProviderSchema {
  return JSON.parse(readFileSync(file, 'utf8')) as ProviderSchema;
}

/** Block bodies as written, `dynamic "x" { content {...} }` included. */
function blockBodies(body: Hcl): Map<string, Hcl[]> {
  const out = new Map<string, Hcl[]>();
  for (const [key, value] of Object.entries(body)) {
    if (key === 'dynamic') {
      for (const [name, dyn] of Object.entries(value as Hcl)) {
        out.set(name, [...(out.get(name) ?? []), ...((dyn as Hcl[])[0]?.content ?? [])]);
      }
    } else if (Array.isArray(value) && value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      out.set(key, [...(out.get(key) ?? []), ...(value as Hcl[])]);
    }
  }
  return out;
}

function checkBody(where: string, body: Hcl, schema: TypeSchema): string[] {
  const problems: string[] = [];
  const allowed = new Set(schema.arguments);
  const present = new Set([...Object.keys(body), ...Object.keys((body.dynamic ?? {}) as Hcl)]);
  for (const key of present) {
    if (!META_ARGUMENTS.has(key) && !allowed.has(key)) problems.push(`${where}: unknown argument ${key}`);
  }
  for (const required of schema.required) {
    if (!present.has(required)) problems.push(`${where}: missing required argument ${required}`);
  }
  for (const [name, bodies] of blockBodies(body)) {
    const nested = schema.blocks[name];
    if (!nested) continue; // attributes holding lists of objects, or meta blocks like lifecycle
    for (const inner of bodies) {
      for (const key of Object.keys(inner)) {
        if (key !== 'dynamic' && !nested.includes(key)) problems.push(`${where}: ${name} has no argument ${key}`);
      }
    }
  }
  return problems;
}

export function checkProviderSchema(module: TfModule, schema: ProviderSchema, root: string): string[] {
  const problems: string[] = [];
  for (const kind of ['resource', 'data'] as const) {
    const types = kind === 'resource' ? schema.resources : schema.dataSources;
    for (const b of blocks(module, kind).filter((b) => b.type.startsWith('aws_'))) {
      const where = `${path.relative(root, b.file)}: ${kind === 'data' ? 'data.' : ''}${b.type}.${b.name}`;
      const typeSchema = types[b.type];
      if (!typeSchema) problems.push(`${where}: the AWS provider ${schema.version} has no ${kind} type ${b.type}`);
      else problems.push(...checkBody(where, b.body, typeSchema));
    }
  }
  return problems;
}
