/**
 * Every alert links a runbook that exists, and every runbook belongs to an alert: an alert without one
 * leaves the on-call guessing at 3 a.m., and a runbook for a deleted alert misleads. The checker runs on
 * the real rules and docs, and on a planted broken copy to show it can fail.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
const BASE = 'https://github.com/callgate/callgate/blob/main/docs/runbooks/';
/** What an on-call needs from each runbook, in this order of use. */
const SECTIONS = ['## What it means', '## Confirm', '## What to do', '## Escalate'];

interface Alert {
  file: string;
  name: string;
  runbookUrl?: string;
}

function alertsIn(rulesDir: string): Alert[] {
  return readdirSync(rulesDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((file) => {
      const doc = parse(readFileSync(path.join(rulesDir, file), 'utf8')) as {
        groups?: { rules?: { alert?: string; annotations?: Record<string, string> }[] }[];
      };
      return (doc.groups ?? []).flatMap((g) =>
        (g.rules ?? [])
          .filter((r) => r.alert)
          .map((r) => ({ file, name: r.alert as string, runbookUrl: r.annotations?.runbook_url })),
      );
    });
}

/**
 * CloudWatch alarms (Terraform) that name a runbook in their description ("Runbook: docs/runbooks/X.md"):
 * those outside Prometheus's sight, such as the console distribution's edge metrics in us-east-1.
 */
function cloudWatchRunbooks(terraformDir: string): Alert[] {
  return readdirSync(terraformDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.tf') && !f.includes('.terraform'))
    .flatMap((file) =>
      [...readFileSync(path.join(terraformDir, file), 'utf8').matchAll(/Runbook: docs\/runbooks\/(\w+)\.md/g)].map(
        (m) => ({ file, name: m[1] as string, runbookUrl: `${BASE}${m[1]}.md` }),
      ),
    );
}

/** Problems with the alerts' runbook links and the runbooks folder; empty when all is well. */
function checkRunbooks(rulesDir: string, runbooksDir: string, terraformDir?: string): string[] {
  const problems: string[] = [];
  const alerts = [...alertsIn(rulesDir), ...(terraformDir ? cloudWatchRunbooks(terraformDir) : [])];
  for (const alert of alerts) {
    const expected = `${BASE}${alert.name}.md`;
    if (alert.runbookUrl !== expected) {
      problems.push(
        `${alert.file} ${alert.name}: runbook_url is ${alert.runbookUrl ?? 'missing'}, expected ${expected}`,
      );
      continue;
    }
    const file = path.join(runbooksDir, `${alert.name}.md`);
    if (!existsSync(file)) {
      problems.push(`${alert.name}: ${path.relative(root, file)} does not exist`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    if (!text.startsWith(`# ${alert.name}\n`)) problems.push(`${alert.name}.md: first line must be "# ${alert.name}"`);
    const missing = SECTIONS.filter((s) => !text.includes(`\n${s}\n`));
    if (missing.length > 0) problems.push(`${alert.name}.md: missing ${missing.join(', ')}`);
  }
  const names = new Set(alerts.map((a) => a.name));
  for (const file of readdirSync(runbooksDir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    if (!names.has(path.basename(file, '.md'))) problems.push(`${file}: no alert in ${rulesDir} links it`);
  }
  return problems;
}

test('every alert links its runbook, and every runbook belongs to an alert', () => {
  const rules = path.join(root, 'observability/prometheus/rules');
  assert.ok(alertsIn(rules).length >= 10, 'the rules were found');
  assert.deepEqual(checkRunbooks(rules, path.join(root, 'docs/runbooks'), path.join(root, 'terraform')), []);
  assert.ok(
    cloudWatchRunbooks(path.join(root, 'terraform')).some((a) => a.name === 'ConsoleEdge5xxRateHigh'),
    "the console distribution's 5xx alarm names its runbook",
  );
});

test('a missing link, a missing file, a missing section and an orphan runbook are each found', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'runbooks-'));
  try {
    const rules = path.join(dir, 'rules');
    const books = path.join(dir, 'runbooks');
    mkdirSync(rules);
    mkdirSync(books);
    writeFileSync(
      path.join(rules, 'r.yml'),
      `groups:
  - name: g
    rules:
      - alert: NoLink
        expr: up == 0
      - alert: NoFile
        expr: up == 0
        annotations:
          runbook_url: ${BASE}NoFile.md
      - alert: Thin
        expr: up == 0
        annotations:
          runbook_url: ${BASE}Thin.md
`,
    );
    writeFileSync(path.join(books, 'Thin.md'), '# Thin\n\n## What it means\n\nSomething.\n');
    writeFileSync(path.join(books, 'Deleted.md'), '# Deleted\n');
    const problems = checkRunbooks(rules, books).join('\n');
    assert.match(problems, /NoLink: runbook_url is missing/);
    assert.match(problems, /NoFile: .*NoFile\.md does not exist/);
    assert.match(problems, /Thin\.md: missing ## Confirm, ## What to do, ## Escalate/);
    assert.match(problems, /Deleted\.md: no alert/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
