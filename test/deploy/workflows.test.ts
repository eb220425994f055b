import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { checkWorkflows, deployedServices } from '../../scripts/deploy-checks/workflows.js';

const root = path.resolve(import.meta.dirname, '../..');

test('the services that run in ECS are the six of the architecture', () => {
  assert.deepEqual(deployedServices(), ['auth', 'call', 'gateway', 'poller', 'sheets-sync', 'user-credit']);
});

test('the CI/CD workflows keep the pipeline rules', () => {
  assert.deepEqual(checkWorkflows(path.join(root, '.github/workflows')), []);
});

test('workflows without lint, Redis, OIDC, staging plan, an ordered production gate or a correct console publish fail', () => {
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
    /deploy\.yml: no job builds the console \(npm run build -w console\)/,
    /deploy\.yml: deploy-staging publishes the console before terraform apply/,
    /deploy\.yml: deploy-staging: the console's sync does not --delete/,
    /deploy\.yml: deploy-staging: the console's hashed assets are not uploaded immutable/,
    /deploy\.yml: deploy-staging: index\.html is not uploaded no-cache/,
    /deploy\.yml: deploy-staging does not write console-config\.json/,
    /deploy\.yml: deploy-staging: no CloudFront invalidation of \/index\.html and \/console-config\.json/,
    /deploy\.yml: deploy-production does not publish the console/,
    /deploy\.yml: the images job does not build auth/,
    /deploy\.yml: production does not promote the auth image/,
  ]) {
    assert.ok(
      problems.some((p) => expected.test(p)),
      `expected ${expected} in:\n${problems.join('\n')}`,
    );
  }
});
