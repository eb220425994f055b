/**
 * The keyed checksum of personal access tokens: only a holder of a key makes a token that verifies,
 * rotation keeps tokens of the previous key working while it is listed, and tokens of the shapes made
 * before (none, CRC-32) are told apart as outdated. Hostile strings are refused, never thrown on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { loadConfig } from './config.js';
import { PERSONAL_TOKEN_PREFIX, PersonalTokenFormat, personalTokenChecksumKeys } from './personal-token.js';

const key = () => randomBytes(32).toString('hex');
const id = () => randomBytes(12).toString('base64url');
const secret = () => randomBytes(32).toString('base64url');

describe('personal access token checksum', () => {
  it('verifies a token made under its key, and refuses any one character changed', () => {
    const format = new PersonalTokenFormat([key()]);
    const token = format.text(id(), secret());
    assert.match(token, /^cgp_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}_[A-Za-z0-9_-]{22}$/);
    assert.equal(format.shape(token), 'valid');
    for (let at = PERSONAL_TOKEN_PREFIX.length; at < token.length; at++) {
      if (token[at] === '_') continue;
      const changed = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
      assert.equal(format.shape(changed), 'malformed', `character ${at} changed`);
    }
  });

  it('a token computed without the key (the CRC-32 way, or under another key) is malformed', () => {
    const format = new PersonalTokenFormat([key()]);
    const stranger = new PersonalTokenFormat([key()]);
    for (let i = 0; i < 50; i++) assert.equal(format.shape(stranger.text(id(), secret())), 'malformed');
  });

  it('rotation: the first key signs, every listed key verifies, a dropped key no longer does', () => {
    const [old, next] = [key(), key()];
    const before = new PersonalTokenFormat([old]).text(id(), secret());
    const during = new PersonalTokenFormat([next, old]);
    assert.equal(during.shape(before), 'valid', 'a token of the old key still works during rotation');
    const made = during.text(id(), secret());
    assert.equal(new PersonalTokenFormat([next]).shape(made), 'valid', 'new tokens are signed with the first key');
    assert.equal(new PersonalTokenFormat([old]).shape(made), 'malformed');
    assert.equal(new PersonalTokenFormat([next]).shape(before), 'malformed', 'the old key dropped');
  });

  it('tokens of the shapes made before the keyed checksum are outdated; junk is malformed', () => {
    const format = new PersonalTokenFormat([key()]);
    const body = `${PERSONAL_TOKEN_PREFIX}${id()}_${secret()}`;
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    assert.equal(format.shape(body), 'outdated');
    assert.equal(format.shape(`${body}_${crc.toString('base64url')}`), 'outdated');
    for (const junk of [
      '',
      PERSONAL_TOKEN_PREFIX,
      `${body}\0${'A'.repeat(22)}`,
      `${body}_${'A'.repeat(21)}\0`,
      `${PERSONAL_TOKEN_PREFIX}${'a'.repeat(1_000_000)}`,
      `${body}_${'é'.repeat(22)}`,
      `xyz_${id()}_${secret()}_${'A'.repeat(22)}`,
    ]) {
      assert.equal(format.shape(junk), 'malformed', JSON.stringify(junk.slice(0, 80)));
    }
  });

  it('PERSONAL_TOKEN_CHECKSUM_KEYS: comma-separated keys of 32+ characters, a clear message otherwise', () => {
    const shape = { KEYS: personalTokenChecksumKeys };
    assert.deepEqual(loadConfig('t', shape, { KEYS: ` ${'a'.repeat(32)} , ${'b'.repeat(40)},` }).KEYS, [
      'a'.repeat(32),
      'b'.repeat(40),
    ]);
    for (const bad of ['short', `${'a'.repeat(32)},short`, ' , ']) {
      assert.throws(() => loadConfig('t', shape, { KEYS: bad }), /KEYS: comma-separated keys of at least 32/);
    }
    assert.throws(() => loadConfig('t', shape, {}), /KEYS: is required but not set/);
    assert.throws(() => new PersonalTokenFormat([]), /at least one key/);
  });
});
