/**
 * Derives terraform/aws-provider-schema.json from the jsii assembly of @cdktf/provider-aws: for every
 * resource and data source, its top-level argument and block names and which of them are required.
 *
 * Why from the jsii assembly: nothing here can run `terraform providers schema -json` (no terraform, no
 * network), but the prebuilt CDKTF provider is generated from exactly that schema, and each property of a
 * `<Resource>Config` struct links to its registry docs anchor, which is the HCL argument name
 * (`.../resources/ecs_service#desired_count`). The 130 MB assembly is too large to read in every test,
 * so the compact result is committed; re-run after upgrading the package:
 *   npx tsx scripts/deploy-checks/derive-aws-schema.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface JsiiTypeRef {
  fqn?: string;
  collection?: { elementtype: JsiiTypeRef };
  union?: { types: JsiiTypeRef[] };
}
interface JsiiProperty {
  name: string;
  optional?: boolean;
  type?: JsiiTypeRef;
  docs?: { summary?: string; remarks?: string };
}
interface JsiiType {
  kind: string;
  name: string;
  initializer?: { parameters?: { name: string; type?: JsiiTypeRef }[] };
  properties?: JsiiProperty[];
  docs?: { summary?: string };
}

export interface ProviderSchema {
  provider: string;
  version: string;
  resources: Record<string, TypeSchema>;
  dataSources: Record<string, TypeSchema>;
}
/** Top-level arguments; `blocks` holds the arguments of each nested block (one level, enough to catch typos there). */
export interface TypeSchema {
  arguments: string[];
  required: string[];
  blocks: Record<string, string[]>;
}

const DOC_LINK =
  /registry\.terraform\.io\/providers\/hashicorp\/aws\/([\d.]+)\/docs\/(resources|data-sources)\/([a-z0-9_]+)(?:#([a-z0-9_]+))?/;

const anchorOf = (property: JsiiProperty) =>
  DOC_LINK.exec(`${property.docs?.summary ?? ''} ${property.docs?.remarks ?? ''}`)?.[4];

/** The struct a block property holds: `Block`, `Block[]` or `IResolvable | Block[]`. */
function structOf(ref: JsiiTypeRef | undefined, types: Record<string, JsiiType>): JsiiType | undefined {
  if (!ref) return undefined;
  if (ref.fqn) return types[ref.fqn];
  if (ref.collection) return structOf(ref.collection.elementtype, types);
  return ref.union?.types.map((t) => structOf(t, types)).find((t) => t?.kind === 'interface');
}

export function deriveSchema(assembly: { types: Record<string, JsiiType> }): ProviderSchema {
  const schema: ProviderSchema = { provider: 'hashicorp/aws', version: '', resources: {}, dataSources: {} };
  for (const type of Object.values(assembly.types)) {
    if (type.kind !== 'class') continue;
    // The construct class names its Terraform type: "Represents a {@link .../resources/ecs_service aws_ecs_service}".
    const link = DOC_LINK.exec(type.docs?.summary ?? '');
    if (!link || link[4]) continue;
    const [, version, kind, shortName] = link;
    // The constructor's `config` parameter names the struct (usually <Class>Config, <Class>ConfigA on a clash).
    const configFqn = type.initializer?.parameters?.find((p) => p.name === 'config')?.type?.fqn;
    const config = configFqn ? assembly.types[configFqn] : undefined;
    if (!config?.properties) continue;
    schema.version = version as string;
    const args = new Set<string>();
    const required = new Set<string>();
    const blocks: Record<string, string[]> = {};
    for (const property of config.properties) {
      const anchor = anchorOf(property);
      if (!anchor) continue; // meta-arguments (count, provider, lifecycle...) come from cdktf, not the provider
      args.add(anchor);
      if (!property.optional) required.add(anchor);
      const block = structOf(property.type, assembly.types);
      if (block?.kind === 'interface' && block.properties) {
        blocks[anchor] = block.properties
          .map(anchorOf)
          .filter((a): a is string => Boolean(a))
          .sort();
      }
    }
    const target = kind === 'resources' ? schema.resources : schema.dataSources;
    target[`aws_${shortName}`] = { arguments: [...args].sort(), required: [...required].sort(), blocks };
  }
  return schema;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('derive-aws-schema.ts')) {
  const root = path.resolve(import.meta.dirname, '../..');
  const assembly = JSON.parse(readFileSync(path.join(root, 'node_modules/@cdktf/provider-aws/.jsii'), 'utf8'));
  const schema = deriveSchema(assembly);
  const sortKeys = <T>(o: Record<string, T>) =>
    Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  const out = { ...schema, resources: sortKeys(schema.resources), dataSources: sortKeys(schema.dataSources) };
  writeFileSync(path.join(root, 'terraform/aws-provider-schema.json'), `${JSON.stringify(out)}\n`);
  process.stderr.write(
    `aws provider ${schema.version}: ${Object.keys(schema.resources).length} resources, ${Object.keys(schema.dataSources).length} data sources\n`,
  );
}
