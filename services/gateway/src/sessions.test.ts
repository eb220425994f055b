import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@callgate/common';
import type { McpServer, Transport } from '@modelcontextprotocol/server';
import { type SessionKind, SessionRegistry, type SessionSlot } from './sessions.js';

/** A session whose server records whether it was closed. */
function session(id: string, userId: string, kind: SessionKind = 'http') {
  const closed = { value: false };
  const server = {
    close: async () => {
      closed.value = true;
    },
  } as unknown as McpServer;
  return { entry: { id, kind, userId, server, transport: {} as Transport }, closed };
}

const limits = { idleMs: 1000, maxPerUser: 3, maxTotal: 5 };

describe('SessionRegistry', () => {
  it('answers only the user who opened a session, and only for its kind', () => {
    const registry = new SessionRegistry(limits);
    registry.add(session('s1', 'alice').entry);
    registry.add(session('w1', 'alice', 'websocket').entry);
    assert.equal(registry.get('s1', 'alice', 'http')?.id, 's1');
    assert.equal(registry.get('s1', 'mallory', 'http'), undefined);
    assert.equal(registry.get('nope', 'alice', 'http'), undefined);
    assert.equal(registry.get('w1', 'alice', 'http'), undefined, 'a WebSocket id is not an HTTP session');
  });

  it('sweeps sessions idle past the limit and keeps those touched', async () => {
    const clock = new ManualClock(0);
    const registry = new SessionRegistry(limits, clock);
    const idle = session('idle', 'alice');
    const active = session('active', 'bob');
    registry.add(idle.entry);
    registry.add(active.entry);
    clock.set(900);
    registry.touch('active');
    clock.set(1500);
    assert.equal(await registry.sweep(), 1);
    assert.equal(idle.closed.value, true);
    assert.equal(active.closed.value, false);
    assert.equal(registry.get('idle', 'alice', 'http'), undefined);
    assert.equal(registry.get('active', 'bob', 'http')?.id, 'active');
  });

  it('a read by its owner counts as activity', async () => {
    const clock = new ManualClock(0);
    const registry = new SessionRegistry(limits, clock);
    registry.add(session('s', 'alice').entry);
    clock.set(800);
    registry.get('s', 'alice', 'http');
    clock.set(1700);
    assert.equal(await registry.sweep(), 0);
  });

  it('a user at their limit loses their least recently used session, not anyone else’s', async () => {
    const clock = new ManualClock(0);
    const registry = new SessionRegistry(limits, clock);
    const sessions = ['a1', 'a2', 'a3'].map((id) => session(id, 'alice'));
    const bob = session('b1', 'bob');
    for (const s of [...sessions, bob]) {
      clock.advance(10);
      registry.add(s.entry);
    }
    clock.advance(10);
    registry.touch('a1');
    assert.equal(typeof registry.reserve('alice'), 'object');
    assert.deepEqual(
      sessions.map((s) => s.closed.value),
      [false, true, false],
    );
    assert.equal(bob.closed.value, false);
    assert.equal(registry.size, 3);
  });

  it('a full replica refuses new sessions without closing anyone’s', async () => {
    const registry = new SessionRegistry(limits);
    const all = ['u1', 'u2', 'u3', 'u4', 'u5'].map((user) => session(`s-${user}`, user));
    for (const s of all) registry.add(s.entry);
    assert.equal(registry.reserve('u6'), 'replica');
    assert.ok(all.every((s) => !s.closed.value));
  });

  it('counts sessions being opened: concurrent reservations cannot all see room', () => {
    const registry = new SessionRegistry(limits);
    const slots = Array.from({ length: 5 }, () => registry.reserve('alice'));
    assert.deepEqual(
      slots.map((s) => (typeof s === 'string' ? s : 'slot')),
      ['slot', 'slot', 'slot', 'user', 'user'],
      'three places, none yet open to give up',
    );
    const [first, second] = slots as [SessionSlot, SessionSlot];
    first.open(session('a1', 'alice').entry);
    const evicting = registry.reserve('alice');
    assert.equal(typeof evicting, 'object', 'an open session is given up for a new one');
    assert.equal(registry.get('a1', 'alice', 'http'), undefined, 'the open one was evicted');
    second.release();
    second.release();
    assert.equal(typeof registry.reserve('alice'), 'object', 'a released place is free again, once');
    assert.equal(registry.reserve('alice'), 'user');
  });

  it('a full replica counts reservations too, and a released one frees its place', () => {
    const registry = new SessionRegistry(limits);
    const held = ['u1', 'u2', 'u3', 'u4', 'u5'].map((user) => registry.reserve(user) as SessionSlot);
    assert.equal(registry.reserve('u6'), 'replica');
    held[0]?.release();
    assert.equal(typeof registry.reserve('u6'), 'object');
  });

  it('closeAll closes and forgets every session', async () => {
    const registry = new SessionRegistry(limits);
    const a = session('a', 'alice');
    const b = session('b', 'bob');
    registry.add(a.entry);
    registry.add(b.entry);
    await registry.closeAll();
    assert.equal(registry.size, 0);
    assert.ok(a.closed.value && b.closed.value);
  });
});
