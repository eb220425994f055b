import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@callgate/common';
import { admissionCaps, capReached, UserSlots } from './admission-caps.js';

describe('UserSlots', () => {
  it('gives each user at most `limit` places, counted when reserved, and another user their own', () => {
    const slots = new UserSlots(2);
    const taken = [slots.reserve('alice'), slots.reserve('alice'), slots.reserve('alice')];
    assert.deepEqual(taken.map(Boolean), [true, true, false]);
    assert.ok(slots.reserve('bob'), 'another user is unaffected');
    assert.equal(slots.count('alice'), 2);
  });

  it('a released place is free again, and releasing twice frees it once', () => {
    const slots = new UserSlots(1);
    const first = slots.reserve('alice');
    first?.release();
    first?.release();
    const second = slots.reserve('alice');
    assert.ok(second);
    assert.equal(slots.reserve('alice'), undefined, 'the double release did not make a second place');
    second.release();
    assert.equal(slots.count('alice'), 0);
  });

  it('the refusal names what is capped and the limit', () => {
    const error = capReached('listen streams', 8, 'close one before opening another');
    assert.match(error.message, /Too many listen streams: a user may have at most 8 open at once/);
    assert.deepEqual(error.data, { limit: 8 });
  });
});

describe('admissionCaps', () => {
  const config = { MCP_MAX_WEBSOCKETS_PER_USER: 16, MCP_MAX_LISTEN_STREAMS_PER_USER: 8, MCP_MAX_LISTEN_STREAMS: 1024 };

  it('takes the caps from the configuration', () => {
    assert.deepEqual(admissionCaps(config), { websocketsPerUser: 16, listenStreamsPerUser: 8, listenStreams: 1024 });
  });

  it('refuses a per-user listen cap above the replica total, naming the variable', () => {
    assert.throws(
      () => admissionCaps({ ...config, MCP_MAX_LISTEN_STREAMS_PER_USER: 2000 }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.problems.some((p) => p.variable === 'MCP_MAX_LISTEN_STREAMS_PER_USER' && /1024/.test(p.message)),
    );
  });
});
