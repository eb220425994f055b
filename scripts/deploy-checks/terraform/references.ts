/**
 * What `terraform validate` would catch first, offline: every var., local., module., resource and data
 * reference names something declared in its module; every module call passes only variables the module
 * declares and every variable it requires; every module.<name>.<output> exists in that module.
 */
import path from 'node:path';
import { blocks, type Hcl, labelled, locals, strings, type TfModule } from './parse.js';

// Names that are not declarations: built-in objects, iterators, provider-less functions' receivers.
const BUILTIN_ROOTS = new Set(['each', 'count', 'path', 'self', 'terraform']);

/** References in one interpolated string: "${var.x}-${aws_s3_bucket.b.arn}" -> var.x, aws_s3_bucket.b. */
function referencesIn(text: string): string[] {
  const refs: string[] = [];
  const cleaned = text.replace(/"(?:[^"\\$]|\\.)*"/g, '""'); // literal strings inside expressions
  for (const m of cleaned.matchAll(
    /(?<![\w.-])(data\.[a-z][a-z0-9_]*\.[A-Za-z_][\w-]*|(?:var|local|module)\.[A-Za-z_][\w-]*(?:\[[^\]]*\])?(?:\.[A-Za-z_][\w-]*)?|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][\w-]*)/g,
  )) {
    refs.push((m[1] as string).replace(/\[[^\]]*\]/, ''));
  }
  return refs;
}

/** Iterator names of `dynamic "x"` blocks and `for` expressions: not references to declarations. */
function localNames(module: TfModule): Set<string> {
  const names = new Set<string>();
  for (const { text } of module.files) {
    for (const m of text.matchAll(/dynamic\s+"([\w-]+)"/g)) names.add(m[1] as string);
    for (const m of text.matchAll(/\bfor\s+([\w]+)(?:\s*,\s*([\w]+))?\s+in\b/g)) {
      names.add(m[1] as string);
      if (m[2]) names.add(m[2]);
    }
  }
  return names;
}

export function checkReferences(module: TfModule, modulesByDir: Map<string, TfModule>): string[] {
  const problems: string[] = [];
  const variables = labelled(module, 'variable');
  const moduleCalls = labelled(module, 'module');
  const localValues = locals(module);
  const resources = new Set(blocks(module, 'resource').map((b) => `${b.type}.${b.name}`));
  const dataSources = new Set(blocks(module, 'data').map((b) => `data.${b.type}.${b.name}`));
  const iterators = localNames(module);
  const rel = (f: string) => path.relative(path.dirname(module.dir), f);

  for (const { file, hcl } of module.files) {
    for (const text of strings(hcl).filter((s) => s.includes('${'))) {
      for (const ref of referencesIn(text)) {
        const [root, name, attr] = ref.split('.') as [string, string, string | undefined];
        if (BUILTIN_ROOTS.has(root) || iterators.has(root)) continue;
        if (root === 'var' && !variables.has(name)) problems.push(`${rel(file)}: var.${name} is not declared`);
        else if (root === 'local' && !localValues.has(name))
          problems.push(`${rel(file)}: local.${name} is not defined`);
        else if (root === 'module') {
          const call = moduleCalls.get(name);
          if (!call) problems.push(`${rel(file)}: module.${name} is not declared`);
          else if (attr) {
            const callee = modulesByDir.get(path.resolve(module.dir, call.source));
            if (callee && !labelled(callee, 'output').has(attr))
              problems.push(`${rel(file)}: module.${name}.${attr}: ${call.source} has no output ${attr}`);
          }
        } else if (root === 'data' && !dataSources.has(ref)) problems.push(`${rel(file)}: ${ref} is not declared`);
        else if (
          !['var', 'local', 'module', 'data'].includes(root) &&
          /_/.test(root) &&
          !resources.has(`${root}.${name}`)
        ) {
          problems.push(`${rel(file)}: resource ${root}.${name} is not declared`);
        }
      }
    }
  }

  // Module calls against the called module's variables.
  const META = new Set(['source', 'version', 'for_each', 'count', 'depends_on', 'providers', 'file']);
  for (const [name, call] of moduleCalls) {
    const callee = modulesByDir.get(path.resolve(module.dir, String(call.source)));
    if (!callee) {
      problems.push(`${rel(call.file)}: module.${name}: source ${call.source} is not a module here`);
      continue;
    }
    const declared = labelled(callee, 'variable');
    for (const arg of Object.keys(call).filter((k) => !META.has(k))) {
      if (!declared.has(arg))
        problems.push(`${rel(call.file)}: module.${name} passes ${arg}, which ${call.source} does not declare`);
    }
    for (const [variable, body] of declared) {
      if (!('default' in (body as Hcl)) && !(variable in call))
        problems.push(`${rel(call.file)}: module.${name} does not pass required variable ${variable}`);
    }
  }
  return problems;
}
