/**
 * The logs of the whole system over one real call, read as an operator would (every service's JSON
 * lines on standard output of one process, at debug level): one request's id appears in the gateway's,
 * the call service's and user-credit's lines; no bearer token, JWT key or full phone number appears,
 * even where a real code path logs a message that names a number.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { FAST } from '../support/calls.js';
import { cleanEnv, runEntry } from '../support/process.js';

interface FixtureReport {
  requestId: string;
  token: string;
  jwtSecret: string;
  number: string;
  refusedCallerId: string;
  outcome: { call?: { status?: string } };
  refused: { isError?: boolean };
}

const REQUEST_ID = `logs-test-${process.pid}`;
let lines: Record<string, unknown>[];
let raw: string;
let report: FixtureReport;

before(async () => {
  const child = runEntry('test/fixtures/logged-call.ts', cleanEnv({ LOG_LEVEL: 'debug', REQUEST_ID, ...FAST }));
  const code = await child.exited;
  assert.equal(code, 0, `fixture failed:\n${child.stderr()}`);
  raw = child.stdout();
  // Every line of the log stream is JSON: masking never breaks a line.
  lines = raw
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const last = child.stderr().trim().split('\n').at(-1) ?? '';
  report = JSON.parse(last) as FixtureReport;
});

describe('system logs over one call', () => {
  it('the call was really placed and completed, and the refused one refused', () => {
    assert.equal(report.outcome.call?.status, 'completed');
    assert.equal(report.refused.isError, true);
  });

  it("one request's id is in the gateway's, the call service's and user-credit's lines", () => {
    const tagged = lines.filter((line) => line.requestId === REQUEST_ID);
    const services = new Set(tagged.map((line) => line.service));
    assert.ok(services.has('gateway'), 'gateway');
    assert.ok(services.has('call'), 'call service');
    // Reached through the call service (Reserve), not only from the gateway: the id crosses two hops.
    assert.ok(
      tagged.some((line) => line.service === 'user-credit' && line.rpc === 'Reserve'),
      'user-credit Reserve, called by the call service',
    );
    assert.ok(tagged.some((line) => line.service === 'call' && line.rpc === 'PlaceCall'));
    const access = tagged.find((line) => line.service === 'gateway' && line.msg === 'mcp request');
    assert.equal(access?.status, 200);
  });

  it('no token, key or full phone number is written; numbers keep their last four digits', () => {
    const digits = (n: string) => n.replace(/^\+/, '');
    for (const [what, secret] of [
      ['bearer token', report.token],
      ['JWT payload', report.token.split('.')[1] ?? report.token],
      ['JWT key', report.jwtSecret],
      ['number called', digits(report.number)],
      ['refused caller id', digits(report.refusedCallerId)],
      ['account caller id', '5005550006'],
    ] as const) {
      assert.ok(!raw.includes(secret), `${what} leaked into the logs`);
    }
    // The refusal's reason names the number: proof the masking ran on a real line that had one.
    const refusal = lines.find((line) => line.service === 'call' && line.msg === 'gRPC call refused');
    assert.match(String(refusal?.reason), /\+\*+9876 is not a number you may call from/);
  });
});
