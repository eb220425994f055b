import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { baseConfigShape, ConfigError, env, loadConfig } from './config.js';

// Spelled out rather than spread from baseConfigShape, so these tests pin loadConfig and the env helpers
// whatever the shared shapes hold; baseConfigShape has its own test below.
const shape = {
  LOG_LEVEL: env.logLevel(),
  BIND_HOST: env.host(),
  SHUTDOWN_TIMEOUT_MS: env.milliseconds(10_000),
  DATABASE_URL: env.url().optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  GRPC_PORT: env.port(50051),
  FEATURE_ENABLED: env.bool(false),
  STRICT_MODE: env.bool(true),
  API_URL: env.url(),
  POLL_INTERVAL_MS: env.milliseconds(1000),
  REGION: z.string().min(1),
};

/** The smallest environment that satisfies `shape`: only the variables without a default. */
const required = { API_URL: 'https://api.example.com/v1', REGION: 'eu-west-1' };

/** Runs fn, which must throw ConfigError, and returns it. */
function configError(fn: () => unknown): ConfigError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof ConfigError, `expected a ConfigError, got ${String(thrown)}`);
  return thrown;
}

describe('loadConfig', () => {
  it('applies defaults for every unset variable', () => {
    const config = loadConfig('svc', shape, { ...required });
    assert.deepEqual(config, {
      LOG_LEVEL: 'info',
      BIND_HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT_MS: 10_000,
      // An unset optional variable is absent, not present as undefined.
      DATA_DIR: '.data',
      GRPC_PORT: 50051,
      FEATURE_ENABLED: false,
      STRICT_MODE: true,
      API_URL: 'https://api.example.com/v1',
      POLL_INTERVAL_MS: 1000,
      REGION: 'eu-west-1',
    });
  });

  it('coerces numbers and booleans from their string form', () => {
    const config = loadConfig('svc', shape, {
      ...required,
      LOG_LEVEL: 'debug',
      BIND_HOST: '0.0.0.0',
      SHUTDOWN_TIMEOUT_MS: '2500',
      DATABASE_URL: 'postgres://user@db.internal:5432/callgate',
      GRPC_PORT: '7000',
      FEATURE_ENABLED: '1',
      STRICT_MODE: 'false',
      POLL_INTERVAL_MS: '250',
    });
    assert.equal(config.LOG_LEVEL, 'debug');
    assert.equal(config.BIND_HOST, '0.0.0.0');
    assert.equal(config.SHUTDOWN_TIMEOUT_MS, 2500);
    assert.equal(config.DATABASE_URL, 'postgres://user@db.internal:5432/callgate');
    assert.equal(config.GRPC_PORT, 7000);
    assert.equal(config.FEATURE_ENABLED, true);
    assert.equal(config.STRICT_MODE, false);
    assert.equal(config.POLL_INTERVAL_MS, 250);
  });

  it('reads each boolean spelling', () => {
    const read = (value: string) => loadConfig('svc', { FLAG: env.bool(false) }, { FLAG: value }).FLAG;
    assert.deepEqual(['true', '1', 'false', '0'].map(read), [true, true, false, false]);
  });

  it('ignores variables the shape does not name', () => {
    const config = loadConfig('svc', { REGION: z.string() }, { REGION: 'x', UNRELATED: 'y' });
    assert.deepEqual(config, { REGION: 'x' });
  });

  it('throws ConfigError naming a missing required variable', () => {
    const error = configError(() => loadConfig('svc', shape, { REGION: 'eu-west-1' }));
    assert.equal(error.name, 'ConfigError');
    assert.equal(error.service, 'svc');
    assert.deepEqual(error.problems, [{ variable: 'API_URL', message: 'is required but not set' }]);
    assert.match(error.message, /^svc: invalid configuration:/);
    assert.match(error.message, /API_URL: is required but not set/);
  });

  it('names every offending variable at once', () => {
    const error = configError(() =>
      loadConfig('svc', shape, {
        ...required,
        API_URL: 'not a url',
        GRPC_PORT: 'abc',
        FEATURE_ENABLED: 'yes',
        LOG_LEVEL: 'loud',
      }),
    );
    const variables = error.problems.map((p) => p.variable).sort();
    assert.deepEqual(variables, ['API_URL', 'FEATURE_ENABLED', 'GRPC_PORT', 'LOG_LEVEL']);
    for (const variable of variables) assert.match(error.message, new RegExp(`^  ${variable}: `, 'm'));
    assert.match(error.message, /FEATURE_ENABLED: expected true, false, 1 or 0/);
    assert.match(error.message, /API_URL: expected a URL/);
    assert.doesNotMatch(error.message, /REGION/);
  });

  it('rejects a port outside 0..65535 and a non-integer port', () => {
    for (const value of ['70000', '-1', '80.5']) {
      const error = configError(() => loadConfig('svc', shape, { ...required, GRPC_PORT: value }));
      assert.deepEqual(
        error.problems.map((p) => p.variable),
        ['GRPC_PORT'],
        `GRPC_PORT=${value}`,
      );
    }
  });

  it('rejects a zero or negative duration', () => {
    const error = configError(() => loadConfig('svc', shape, { ...required, POLL_INTERVAL_MS: '0' }));
    assert.deepEqual(
      error.problems.map((p) => p.variable),
      ['POLL_INTERVAL_MS'],
    );
  });

  it('rejects a duration past what a Node timer can hold (it would fire at once)', () => {
    const error = configError(() => loadConfig('svc', shape, { ...required, POLL_INTERVAL_MS: '2147483648' }));
    assert.deepEqual(
      error.problems.map((p) => p.variable),
      ['POLL_INTERVAL_MS'],
    );
    assert.equal(
      loadConfig('svc', shape, { ...required, POLL_INTERVAL_MS: '2147483647' }).POLL_INTERVAL_MS,
      2147483647,
    );
  });

  it('does not report a set but malformed number as unset', () => {
    // config.ts reads issue.input, which zod 4 leaves out of issues unless asked (reportInput),
    // so every invalid_type issue, e.g. GRPC_PORT=abc coerced to NaN, reads "is required but not set".
    const error = configError(() => loadConfig('svc', shape, { ...required, GRPC_PORT: 'abc' }));
    assert.equal(error.problems.length, 1);
    assert.equal(error.problems[0]?.variable, 'GRPC_PORT');
    assert.doesNotMatch(error.problems[0]?.message ?? '', /required but not set/);
  });

  it('treats empty strings as unset: defaults apply', () => {
    const config = loadConfig('svc', shape, {
      ...required,
      GRPC_PORT: '',
      FEATURE_ENABLED: '',
      STRICT_MODE: '',
      DATABASE_URL: '',
      LOG_LEVEL: '',
    });
    // z.coerce.number('') would be 0 and '' is not a valid bool or URL: each must fall back instead.
    assert.equal(config.GRPC_PORT, 50051);
    assert.equal(config.FEATURE_ENABLED, false);
    assert.equal(config.STRICT_MODE, true);
    assert.equal(config.DATABASE_URL, undefined);
    assert.equal(config.LOG_LEVEL, 'info');
  });

  it('treats an empty required variable as missing', () => {
    const error = configError(() => loadConfig('svc', shape, { ...required, API_URL: '', REGION: '' }));
    assert.deepEqual(error.problems.map((p) => p.variable).sort(), ['API_URL', 'REGION']);
    for (const problem of error.problems) assert.equal(problem.message, 'is required but not set');
  });

  it('baseConfigShape gives every service working defaults', () => {
    const config = loadConfig('svc', baseConfigShape, {});
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.BIND_HOST, '127.0.0.1');
    assert.equal(config.SHUTDOWN_TIMEOUT_MS, 10_000);
    const error = configError(() => loadConfig('svc', baseConfigShape, { SHUTDOWN_TIMEOUT_MS: '-5', LOG_LEVEL: 'x' }));
    assert.deepEqual(error.problems.map((p) => p.variable).sort(), ['LOG_LEVEL', 'SHUTDOWN_TIMEOUT_MS']);
  });

  it('reads process.env when no source is given', () => {
    const name = `CALLGATE_TEST_${process.pid}`;
    process.env[name] = '4242';
    try {
      assert.deepEqual(loadConfig('svc', { [name]: env.port(1) }), { [name]: 4242 });
    } finally {
      delete process.env[name];
    }
  });
});
