/**
 * The attack on this session's changes (ded3777..): each finding still open is a test that fails now and passes
 * once it is fixed. Not run by `npm test` (only *.test.ts); run one with
 *   node --conditions=callgate-source --import tsx --test test/security/session-attack.finding.ts
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { clientAddressOf } from '../../services/auth/src/http-app.js';

describe('finding 3: per-address limits (DCR, sign-in, sign-up, reset) key on the whole IPv6 address', () => {
  const addressOf = (forwarded: string) =>
    clientAddressOf(true)({ headers: { 'x-forwarded-for': forwarded }, socket: {} } as unknown as IncomingMessage);

  it('two addresses of one /64 (one host or one household: 2^64 addresses) count as one', () => {
    assert.equal(addressOf('2001:db8:1:2::1'), addressOf('2001:db8:1:2:ffff:abcd:1234:5678'));
    assert.equal(addressOf('2001:db8:1:2::1'), addressOf('2001:0db8:0001:0002:0000:0000:0000:0001'));
  });

  it('an IPv4 client counts the same seen as IPv4 or IPv4-mapped IPv6 (a dual-stack listener)', () => {
    assert.equal(addressOf('::ffff:203.0.113.7'), addressOf('203.0.113.7'));
  });

  it('another /64 and another IPv4 address still count apart', () => {
    assert.notEqual(addressOf('2001:db8:1:2::1'), addressOf('2001:db8:1:3::1'));
    assert.notEqual(addressOf('203.0.113.7'), addressOf('203.0.113.8'));
  });
});
