import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { checkWorkflows } from '../../scripts/deploy-checks/workflows.js';

const root = path.resolve(import.meta.dirname, '../..');

test('the CI/CD workflows keep the pipeline rules', () => {
  assert.deepEqual(checkWorkflows(path.join(root, '.github/workflows')), []);
});

test('workflows without lint, Redis, OIDC, staging plan or an ordered production gate fail', () => {
  const problems = checkWorkflows(path.join(root, 'test/deploy/fixtures/workflows'));
  for (const expected of [
    /pr\.yml: pull requests do not lint/,
    /pr\.yml: pull requests do not type-check/,
    /pr\.yml: tests run without a redis service container/,
    /actions\/checkout@main is not pinned/,
    /pr\.yml: long-lived AWS keys/,
    /pr\.yml: AWS access without permissions id-token: write/,
    /deploy\.yml: deploy-staging needs unknown job plan/,
    /needs\.images\.outputs\.tag is not an output/,
    /deploy\.yml: no terraform plan for staging/,
    /deploy\.yml: production does not wait for staging/,
  ]) {
    assert.ok(
      problems.some((p) => expected.test(p)),
      `expected ${expected} in:\n${problems.join('\n')}`,
    );
  }
});
