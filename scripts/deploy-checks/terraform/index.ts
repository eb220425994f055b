/**
 * The hand-written Terraform checks: what `terraform fmt` and `terraform validate` (validate.ts) cannot
 * know, i.e. the project's own rules (rules.ts), on every .tf file parsed by @cdktf/hcl2json.
 */

import { loadModule, moduleDirs, type TfModule } from './parse.js';
import { checkRules } from './rules.js';

export interface TerraformReport {
  parse: string[];
  rules: string[];
}

export async function checkTerraform(terraformRoot: string): Promise<TerraformReport> {
  const report: TerraformReport = { parse: [], rules: [] };
  const modules: TfModule[] = [];
  for (const dir of moduleDirs(terraformRoot)) {
    const { module, problems } = await loadModule(dir);
    modules.push(module);
    report.parse.push(...problems);
  }
  report.rules.push(...checkRules(modules, terraformRoot));
  return report;
}
