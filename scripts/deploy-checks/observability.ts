/**
 * The observability files checked by the real tools: `promtool check config` (scrape config and the rule
 * files it loads), `promtool check rules`, `promtool test rules` (the alerts' unit tests), `amtool
 * check-config` (Alertmanager routing), the dashboards' PromQL through `promtool check rules` (each query as
 * a recording rule), the dashboards' types, and every metric name against what the services export.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { dashboardExprs, dashboardFiles, typeCheckDashboards, withGrafanaVariables } from './grafana.js';
import { exportedMetrics, unknownMetrics } from './metric-names.js';
import { runTool } from './tools.js';

export interface ObservabilityLayout {
  prometheusConfig: string;
  rulesDir: string;
  ruleTests: string;
  alertmanagerConfig: string;
  dashboardsDir: string;
}

export function defaultLayout(root: string): ObservabilityLayout {
  const o = path.join(root, 'observability');
  return {
    prometheusConfig: path.join(o, 'prometheus/prometheus.yml'),
    rulesDir: path.join(o, 'prometheus/rules'),
    ruleTests: path.join(o, 'prometheus/tests/rules.test.yml'),
    alertmanagerConfig: path.join(o, 'alertmanager/alertmanager.yml'),
    dashboardsDir: path.join(o, 'grafana/dashboards'),
  };
}

const ruleFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .map((f) => path.join(dir, f));

export function ruleExprs(files: string[]): { where: string; expr: string }[] {
  return files.flatMap((file) => {
    const doc = parse(readFileSync(file, 'utf8')) as {
      groups?: { rules?: { alert?: string; record?: string; expr: string }[] }[];
    };
    return (doc.groups ?? []).flatMap((g) =>
      (g.rules ?? []).map((r) => ({ where: `${path.basename(file)} ${r.alert ?? r.record}`, expr: String(r.expr) })),
    );
  });
}

export function checkPrometheus(promtool: string, layout: ObservabilityLayout): string[] {
  return [
    ...runTool(promtool, ['check', 'config', layout.prometheusConfig]),
    ...runTool(promtool, ['check', 'rules', ...ruleFiles(layout.rulesDir)]),
    ...runTool(promtool, ['test', 'rules', layout.ruleTests]),
  ];
}

export function checkAlertmanager(amtool: string, layout: ObservabilityLayout): string[] {
  return runTool(amtool, ['check-config', layout.alertmanagerConfig]);
}

/** Dashboards: types, PromQL syntax (promtool), metric names. */
export function checkDashboards(promtool: string, layout: ObservabilityLayout, root: string): string[] {
  const files = dashboardFiles(layout.dashboardsDir);
  const problems = typeCheckDashboards(files, root);
  const exprs = files.flatMap(dashboardExprs);
  if (exprs.length === 0) problems.push('no dashboard queries found');
  const dir = mkdtempSync(path.join(tmpdir(), 'dashboards-promql-'));
  try {
    const rules = {
      groups: [
        {
          name: 'dashboards',
          rules: exprs.map((e, i) => ({ record: `dashboard:query:${i}`, expr: withGrafanaVariables(e.expr) })),
        },
      ],
    };
    const file = path.join(dir, 'dashboards.yml');
    writeFileSync(file, stringify(rules));
    for (const p of runTool(promtool, ['check', 'rules', file])) {
      // Name the panels of the failing queries: promtool only knows the rule index.
      const indexes = new Set(
        [...p.matchAll(/dashboard:query:(\d+)|group "dashboards", rule (\d+)/g)].map((m) =>
          Number(m[1] ?? Number(m[2]) - 1),
        ),
      );
      problems.push(`${p}\n${[...indexes].map((i) => `  in ${exprs[i]?.where}: ${exprs[i]?.expr}`).join('\n')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

/** Metric names of alert rules and dashboards against the services' exported metrics. */
export function checkMetricNames(layout: ObservabilityLayout, root: string): string[] {
  const exprs = [
    ...ruleExprs(ruleFiles(layout.rulesDir)),
    ...dashboardFiles(layout.dashboardsDir).flatMap(dashboardExprs),
  ];
  return unknownMetrics(exprs, exportedMetrics(root));
}
