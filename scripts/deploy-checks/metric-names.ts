/**
 * Metric names in PromQL (alert rules, dashboards) must be metrics the services really export: a typo or a
 * renamed metric otherwise gives an alert that can never fire and an empty panel, and promtool cannot see
 * it (any name is valid PromQL). The list comes from the services' sources (prom-client `name:` fields and
 * sheets-sync's gauge() helper) plus prom-client's default process/Node.js metrics and Prometheus' `up`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const DEFAULT_METRICS = [
  'up',
  'process_cpu_seconds_total',
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_gc_duration_seconds',
  'nodejs_version_info',
];

/** Metric names defined in services/<name>/src (not tests). */
export function exportedMetrics(root: string): Set<string> {
  const names = new Set(DEFAULT_METRICS);
  const servicesDir = path.join(root, 'services');
  for (const service of readdirSync(servicesDir)) {
    const src = path.join(servicesDir, service, 'src');
    let files: string[];
    try {
      files = readdirSync(src, { recursive: true, encoding: 'utf8' });
    } catch {
      continue;
    }
    for (const file of files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const text = readFileSync(path.join(src, file), 'utf8');
      for (const m of text.matchAll(/\bname: '([a-z_:][a-z0-9_:]*)'/g)) names.add(m[1] as string);
      for (const m of text.matchAll(/\bgauge\(\s*'([a-z_:][a-z0-9_:]*)'/g)) names.add(m[1] as string);
    }
  }
  return names;
}

const PROMQL_WORDS = new Set(
  (
    'sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio by without on ' +
    'ignoring group_left group_right bool and or unless offset abs absent absent_over_time ceil changes clamp ' +
    'clamp_max clamp_min day_of_month day_of_week day_of_year days_in_month delta deriv exp floor histogram_quantile ' +
    'histogram_count histogram_sum histogram_fraction holt_winters hour idelta increase irate label_join label_replace ' +
    'ln log2 log10 minute month predict_linear rate resets round scalar sgn sort sort_desc sqrt time timestamp vector ' +
    'year avg_over_time min_over_time max_over_time sum_over_time count_over_time quantile_over_time stddev_over_time ' +
    'stdvar_over_time last_over_time present_over_time inf nan'
  ).split(' '),
);

/** Metric names an expression reads: identifiers left once strings, matchers, groupings and ranges are removed. */
export function metricsInExpr(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![a-zA-Z0-9_:]|\s*\()/g)) {
    const word = m[1] as string;
    if (!PROMQL_WORDS.has(word.toLowerCase()) && !/^\d/.test(word)) names.add(word);
  }
  return [...names];
}

export function unknownMetrics(exprs: { where: string; expr: string }[], known: Set<string>): string[] {
  const problems: string[] = [];
  for (const { where, expr } of exprs) {
    for (const name of metricsInExpr(expr)) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      if (!known.has(name) && !known.has(base)) problems.push(`${where}: ${name} is not a metric any service exports`);
    }
  }
  return problems;
}
