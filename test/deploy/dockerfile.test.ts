import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { checkDockerfile } from '../../scripts/deploy-checks/dockerfile.js';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

test('the Dockerfile passes dockerfile-utils and the project rules', () => {
  assert.deepEqual(checkDockerfile(read('Dockerfile'), read('.dockerignore'), root), []);
});

test('a Dockerfile running as root on node:20 without health check or init fails', () => {
  const problems = checkDockerfile(read('test/deploy/fixtures/docker/Dockerfile.broken'), read('.dockerignore'), root);
  for (const expected of [
    /not a multi-stage/,
    /node:20-bookworm-slim is not node:24/,
    /runs as root/,
    /no HEALTHCHECK/,
    /not an init/,
    /no such file/,
    /excluded by .dockerignore/,
    /ADD from a URL/,
    /unknown instruction/i,
  ]) {
    assert.ok(
      problems.some((p) => expected.test(p)),
      `expected ${expected} in ${JSON.stringify(problems, null, 1)}`,
    );
  }
});

test('a .dockerignore that lets .env in fails', () => {
  const problems = checkDockerfile(read('Dockerfile'), 'node_modules\n', root);
  assert.ok(
    problems.some((p) => p.includes('lets .env into')),
    JSON.stringify(problems),
  );
});

test("a stage that installs without one workspace's package.json fails", () => {
  const without = read('Dockerfile')
    .split('\n')
    .filter((line) => !line.includes('services/auth/package.json'))
    .join('\n');
  const problems = checkDockerfile(without, read('.dockerignore'), root);
  assert.equal(
    problems.filter((p) => p.includes('npm ci without services/auth/package.json')).length,
    2,
    JSON.stringify(problems),
  );
});
