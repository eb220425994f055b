import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { checkCompose } from '../../scripts/deploy-checks/compose.js';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

test('docker-compose.yml matches the Compose schema and the stack rules', () => {
  assert.deepEqual(checkCompose(read('docker-compose.yml'), read('.env.example'), root), []);
});

test('a compose file with schema errors, unhealthy dependencies and unknown variables fails', () => {
  const problems = checkCompose(
    read('test/deploy/fixtures/compose/broken.yml'),
    `${read('.env.example')}TWILIO_AUTH_TOKN=misspelt\n`,
    root,
  );
  for (const expected of [
    /schema: \/services\/redis .*additionalProperty.*healthchek/,
    /service sqs is missing/,
    /call: depends_on postgres without condition: service_healthy/,
    /gateway: depends on unknown service auth/,
    /redis: no healthcheck/,
    /call: DATABSE_URL is not a variable it reads/,
    /\$\{TWILIO_SECRET\} has no default/,
    /\.env\.example: TWILIO_AUTH_TOKN is read by no service/,
    /redis: mounts missing \.\/observability\/redis\.conf/,
  ]) {
    assert.ok(
      problems.some((p) => expected.test(p)),
      `expected ${expected} in ${JSON.stringify(problems, null, 1)}`,
    );
  }
});
