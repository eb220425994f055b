/**
 * The client address per-address limits count by (DCR, sign-in, sign-up, reset, lockouts): a key a
 * client cannot vary at will (attack finding 3: keyed by the whole IPv6 address, one /64 had 2^64
 * budgets; an IPv4 client seen as ::ffff:a.b.c.d and as a.b.c.d had two).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { addressKey, clientAddressOf } from './http-app.js';

const request = (forwarded: string | undefined, remoteAddress: string | undefined) =>
  ({
    headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
    socket: { remoteAddress },
  }) as unknown as IncomingMessage;

describe('clientAddressOf', () => {
  const behindProxy = (forwarded: string) => clientAddressOf(true)(request(forwarded, '10.0.0.9'));

  it('counts two addresses of one IPv6 /64 as one, however they are written', () => {
    assert.equal(behindProxy('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(behindProxy('2001:db8:1:2:ffff:abcd:1234:5678'), '2001:db8:1:2::/64');
    assert.equal(behindProxy('2001:0DB8:0001:0002:0000:0000:0000:0001'), '2001:db8:1:2::/64');
    assert.notEqual(behindProxy('2001:db8:1:3::1'), behindProxy('2001:db8:1:2::1'));
  });

  it('counts an IPv4 client as its IPv4 address, seen plain or IPv4-mapped', () => {
    assert.equal(behindProxy('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(behindProxy('203.0.113.7'), '203.0.113.7');
    assert.equal(clientAddressOf(false)(request(undefined, '::ffff:127.0.0.1')), '127.0.0.1');
    assert.notEqual(behindProxy('203.0.113.8'), behindProxy('203.0.113.7'));
  });

  it('takes the last X-Forwarded-For hop only behind a proxy, and keeps what is not an address as it is', () => {
    assert.equal(behindProxy('198.51.100.1, 203.0.113.7'), '203.0.113.7');
    assert.equal(clientAddressOf(false)(request('203.0.113.7', '10.0.0.9')), '10.0.0.9');
    assert.equal(addressKey('unknown'), 'unknown');
    assert.equal(addressKey('x'.repeat(100)), 'x'.repeat(64));
  });
});
