import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import {
  checkAlertmanager,
  checkDashboards,
  checkMetricNames,
  checkPrometheus,
  defaultLayout,
  type ObservabilityLayout,
} from '../../scripts/deploy-checks/observability.js';
import { findTool } from '../../scripts/deploy-checks/tools.js';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(root, 'test/deploy/fixtures/observability');
const real = defaultLayout(root);
const promtool = findTool('promtool');
const amtool = findTool('amtool');
// The Debian packages prometheus and prometheus-alertmanager provide them; .ci/run installs both.
const needs = (tool: string | undefined, name: string) =>
  tool ? false : `${name} not installed (apt-get install prometheus prometheus-alertmanager)`;

const assertMentions = (problems: string[], expected: RegExp) =>
  assert.ok(
    problems.some((p) => expected.test(p)),
    `expected ${expected} in:\n${problems.join('\n')}`,
  );

test('prometheus config, rules and rule unit tests pass promtool', { skip: needs(promtool, 'promtool') }, () => {
  assert.deepEqual(checkPrometheus(promtool as string, real), []);
});

test('promtool rejects a bad scrape config, a bad rule and a failing rule test', {
  skip: needs(promtool, 'promtool'),
}, () => {
  const tool = promtool as string;
  assertMentions(
    checkPrometheus(tool, { ...real, prometheusConfig: path.join(fixtures, 'prometheus.yml') }),
    /check config .*failed[\s\S]*fifteen seconds/,
  );
  assertMentions(
    checkPrometheus(tool, { ...real, rulesDir: path.join(fixtures, 'rules') }),
    /check rules .*failed[\s\S]*unclosed left parenthesis/,
  );
  assertMentions(
    checkPrometheus(tool, { ...real, ruleTests: path.join(fixtures, 'rules.test.yml') }),
    /test rules .*failed[\s\S]*SheetsBreakerOpen/,
  );
});

test('the alertmanager example passes amtool', { skip: needs(amtool, 'amtool') }, () => {
  assert.deepEqual(checkAlertmanager(amtool as string, real), []);
});

test('amtool rejects a route to an undefined receiver', { skip: needs(amtool, 'amtool') }, () => {
  assertMentions(
    checkAlertmanager(amtool as string, { ...real, alertmanagerConfig: path.join(fixtures, 'alertmanager.yml') }),
    /undefined receiver "oncall"/,
  );
});

test('dashboards type-check against @grafana/schema and their PromQL parses', {
  skip: needs(promtool, 'promtool'),
}, () => {
  assert.deepEqual(checkDashboards(promtool as string, real, root), []);
});

test('a dashboard with a mistyped field and a broken query fails', { skip: needs(promtool, 'promtool') }, () => {
  const problems = checkDashboards(
    promtool as string,
    { ...real, dashboardsDir: path.join(fixtures, 'dashboards') } as ObservabilityLayout,
    root,
  );
  assertMentions(problems, /broken-types\.json line 4: Type 'string' is not assignable to type 'number'/);
  assertMentions(problems, /broken\.json line 5: .*'"editabel"' does not exist in type 'Dashboard'/);
  assertMentions(problems, /in broken\.json "bad PromQL"/);
});

test('alert rules and dashboards use only metrics the services export', () => {
  assert.deepEqual(checkMetricNames(real, root), []);
});

test('a misspelt or missing metric in a rule or a dashboard fails', () => {
  const problems = checkMetricNames(
    { ...real, rulesDir: path.join(fixtures, 'rules'), dashboardsDir: path.join(fixtures, 'dashboards') },
    root,
  );
  assertMentions(problems, /broken\.yml Misspelt: sheets_sync_near_quotta is not a metric/);
  assertMentions(problems, /broken\.json "unknown metric": gateway_tool_calls_total is not a metric/);
});
