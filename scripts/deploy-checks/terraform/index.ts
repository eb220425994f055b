/** All Terraform checks over terraform/: parse, format, references, provider schema, project rules. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkFormat } from './fmt.js';
import { loadModule, moduleDirs, type TfModule } from './parse.js';
import { checkReferences } from './references.js';
import { checkRules } from './rules.js';
import { checkProviderSchema, loadProviderSchema } from './schema.js';

export interface TerraformReport {
  parse: string[];
  format: string[];
  references: string[];
  schema: string[];
  rules: string[];
}

export async function checkTerraform(terraformRoot: string, schemaFile: string): Promise<TerraformReport> {
  const report: TerraformReport = { parse: [], format: [], references: [], schema: [], rules: [] };
  const modules: TfModule[] = [];
  for (const dir of moduleDirs(terraformRoot)) {
    const { module, problems } = await loadModule(dir);
    modules.push(module);
    report.parse.push(...problems);
  }
  const rel = (f: string) => path.relative(terraformRoot, f);
  for (const module of modules) {
    for (const { file } of module.files) report.format.push(...checkFormat(rel(file), readFileSync(file, 'utf8')));
  }
  const byDir = new Map(modules.map((m) => [m.dir, m]));
  const schema = loadProviderSchema(schemaFile);
  for (const module of modules) {
    report.references.push(...checkReferences(module, byDir));
    report.schema.push(...checkProviderSchema(module, schema, terraformRoot));
  }
  report.rules.push(...checkRules(modules, terraformRoot));
  return report;
}
