/** What the real logger writes: no tokens, no secrets, no full phone numbers; the request id while serving one. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from './logger.js';
import { withRequestId } from './request-context.js';

/** A logger writing into an array, one parsed JSON object per line (a line that is not JSON fails the test). */
function capture(level = 'debug') {
  const raw: string[] = [];
  const log = createLogger('test', level, { write: (line: string) => void raw.push(line) });
  const lines = () => raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, raw, lines };
}

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJzY29wZSI6ImNhbGxzOndyaXRlIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const NUMBER = '+15551234567';

describe('logger redaction', () => {
  it('masks E.164 numbers to their last four digits in messages, fields, errors and form bodies', () => {
    const { log, raw, lines } = capture();
    log.info(`dialling ${NUMBER} for user-1`);
    log.info({ call: { to: NUMBER, from: '+442071234567' }, numbers: [NUMBER] }, 'call placed');
    log.error({ err: new Error(`carrier refused ${NUMBER}: unverified`) }, 'placing failed');
    log.debug({ body: `To=%2B15551234567&From=%2B442071234567&CallStatus=ringing` }, 'status callback');
    log.child({ to: NUMBER }).warn('child bindings too');
    const text = raw.join('');
    assert.doesNotMatch(text, /5551234567|2071234567/, text);
    assert.equal(lines().length, 5, 'every line is still valid JSON');
    assert.match(String(lines()[0]?.msg), /dialling \+\*+4567 for user-1/);
    assert.deepEqual(lines()[1]?.call, { to: '+*******4567', from: '+********4567' });
    assert.match(String((lines()[3] as { body: string }).body), /To=%2B\*+4567&From=%2B\*+4567/);
  });

  it('leaves other numbers alone: amounts, ids, timestamps with offsets', () => {
    const { log, lines } = capture();
    log.info({ credits: 1234567, at: '2026-11-24T10:00:00+01:00', callId: 'c_12345678' }, 'settled 42 credits');
    assert.deepEqual(
      { credits: lines()[0]?.credits, at: lines()[0]?.at, callId: lines()[0]?.callId },
      { credits: 1234567, at: '2026-11-24T10:00:00+01:00', callId: 'c_12345678' },
    );
  });

  it('redacts tokens, secrets and authorization headers by field and by shape', () => {
    const { log, raw } = capture();
    log.info({ headers: { authorization: `Bearer ${JWT}` } }, 'request');
    log.info({ req: { headers: { authorization: 'Bearer opaque-access-token-123', cookie: 'sid=abc123secret' } } });
    log.info({ token: JWT, secret: 'sheets-private-key', auth: { authToken: 'twilio-auth-token-value' } });
    log.warn(`token rejected: ${JWT}`);
    log.warn('upstream said: authorization: Bearer opaque-access-token-456');
    log.info({ config: { JWT_SECRET: 'jwt-secret-of-at-least-32-characters!', TWILIO_AUTH_TOKEN: 'tw-token-xyz' } });
    const text = raw.join('');
    for (const secret of [
      JWT,
      'eyJzdWIiOiJ1c2VyLTEi',
      'opaque-access-token-123',
      'opaque-access-token-456',
      'abc123secret',
      'sheets-private-key',
      'twilio-auth-token-value',
      'jwt-secret-of-at-least',
      'tw-token-xyz',
    ]) {
      assert.ok(!text.includes(secret), `"${secret}" leaked:\n${text}`);
    }
  });

  it('names the request being served on every line, from any logger or child', () => {
    const { log, lines } = capture();
    log.info('before');
    withRequestId('req-42', () => {
      log.info('inside');
      log.child({ rpc: 'PlaceCall' }).info('child inside');
    });
    assert.deepEqual(
      lines().map((line) => line.requestId),
      [undefined, 'req-42', 'req-42'],
    );
  });
});
