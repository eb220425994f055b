import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { checkCompose, checkExposure, publishedHost } from '../../scripts/deploy-checks/compose.js';

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

test('the host address of a published port, in the short and long syntax', () => {
  const port = ['$', '{GATEWAY_HOST_PORT:-8080}'].join(''); // compose interpolation: colons of its own
  assert.equal(publishedHost(`${port}:8080`), '');
  assert.equal(publishedHost(`127.0.0.1:${port}:8080`), '127.0.0.1');
  assert.equal(publishedHost('[::1]:9090:9090'), '[::1]');
  assert.equal(publishedHost('9090'), '');
  assert.equal(publishedHost(9090), '');
  assert.equal(publishedHost({ host_ip: '127.0.0.1' }), '127.0.0.1');
});

test('ports on every interface, default or literal credentials and the Prometheus lifecycle API are found', () => {
  const problems = checkExposure(read('test/deploy/fixtures/compose/exposed.yml'), 'GRAFANA_ADMIN_PASSWORD=admin\n');
  for (const expected of [
    /gateway: port "\$\{GATEWAY_HOST_PORT:-8080\}:8080" is published on every interface/,
    /jaeger: port "0\.0\.0\.0:16686:16686" is published on 0\.0\.0\.0/,
    /jaeger: port 4318 is published on every interface/,
    /prometheus: port \{.*"host_ip":"0\.0\.0\.0"\} is published on 0\.0\.0\.0/,
    /grafana: port "\[::\]:3000:3000" is published on \[::\]/,
    /prometheus: --web\.enable-lifecycle lets whoever reaches it/,
    /\$\{GRAFANA_ADMIN_PASSWORD:-admin\}: a credential with the default "admin"/,
    /grafana: GF_DATABASE_PASSWORD is a credential written into the file/,
    /\.env\.example: GRAFANA_ADMIN_PASSWORD has a value/,
  ]) {
    assert.ok(
      problems.some((p) => expected.test(p)),
      `expected ${expected} in ${JSON.stringify(problems, null, 1)}`,
    );
  }
  assert.ok(!problems.some((p) => p.includes('50050')), 'a port published on 127.0.0.1 is fine');
  assert.equal(problems.length, 9, JSON.stringify(problems, null, 1));
});
