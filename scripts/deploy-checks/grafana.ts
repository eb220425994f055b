/**
 * Grafana dashboards: type-checked against @grafana/schema's `Dashboard` with the TypeScript compiler
 * (each JSON becomes `export const d = <json> satisfies Dashboard`, so unknown or mistyped fields fail as
 * they would in a typed dashboard-as-code repo), and their PromQL handed back for promtool and the
 * metric-name check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

interface Target {
  expr?: string;
}
interface PanelLike {
  title?: string;
  targets?: Target[];
  panels?: PanelLike[];
}

export function dashboardFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => path.join(dir, f));
}

/** TypeScript diagnostics of every dashboard against @grafana/schema, as "file: message". */
export function typeCheckDashboards(files: string[], root: string): string[] {
  const virtual = new Map<string, string>();
  for (const file of files) {
    const name = path.join(root, 'scripts/deploy-checks', `.dashboard-${path.basename(file, '.json')}.ts`);
    const json = readFileSync(file, 'utf8').trim(); // `satisfies` must follow on the same line
    virtual.set(
      name,
      `import type { Dashboard } from '@grafana/schema';\nexport const dashboard = ${json} satisfies Dashboard;\n`,
    );
  }
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => virtual.has(f) || fileExists(f);
  host.readFile = (f) => virtual.get(f) ?? readFile(f);
  host.getSourceFile = (f, language, onError) => {
    const text = virtual.get(f);
    return text !== undefined ? ts.createSourceFile(f, text, language) : getSourceFile(f, language, onError);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line}`
      : '';
    return `${where.replace(/^\.dashboard-/, '').replace('.ts:', '.json line ')}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/** Every PromQL expression of a dashboard (rows' nested panels included). */
export function dashboardExprs(file: string): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels?: PanelLike[] };
  const out: { where: string; expr: string }[] = [];
  const visit = (panels: PanelLike[] = []) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr) out.push({ where: `${path.basename(file)} "${panel.title}"`, expr: target.expr });
      }
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

/** Grafana's interval variables, replaced by a duration so that promtool can parse the query. */
export function withGrafanaVariables(expr: string): string {
  return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
}
