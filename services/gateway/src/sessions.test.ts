import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { McpServer, Transport } from '@modelcontextprotocol/server';
import { SessionRegistry } from './sessions.js';

/** A session whose server records whether it was closed. */
function session(id: string, userId: string) {
  const closed = { value: false };
  const server = {
    close: async () => {
      closed.value = true;
    },
  } as unknown as McpServer;
  return { entry: { id, userId, server, transport: {} as Transport }, closed };
}

describe('SessionRegistry', () => {
  it('answers only the user who opened a session', () => {
    const registry = new SessionRegistry(1000);
    registry.add(session('s1', 'alice').entry);
    assert.equal(registry.get('s1', 'alice')?.id, 's1');
    assert.equal(registry.get('s1', 'mallory'), undefined);
    assert.equal(registry.get('nope', 'alice'), undefined);
  });

  it('sweeps sessions idle past the limit and keeps those touched', async () => {
    let now = 0;
    const registry = new SessionRegistry(1000, () => now);
    const idle = session('idle', 'alice');
    const active = session('active', 'bob');
    registry.add(idle.entry);
    registry.add(active.entry);
    now = 900;
    registry.touch('active');
    now = 1500;
    assert.equal(await registry.sweep(), 1);
    assert.equal(idle.closed.value, true);
    assert.equal(active.closed.value, false);
    assert.equal(registry.get('idle', 'alice'), undefined);
    assert.equal(registry.get('active', 'bob')?.id, 'active');
  });

  it('a read by its owner counts as activity', async () => {
    let now = 0;
    const registry = new SessionRegistry(1000, () => now);
    registry.add(session('s', 'alice').entry);
    now = 800;
    registry.get('s', 'alice');
    now = 1700;
    assert.equal(await registry.sweep(), 0);
  });

  it('closeAll closes and forgets every session', async () => {
    const registry = new SessionRegistry(1000);
    const a = session('a', 'alice');
    const b = session('b', 'bob');
    registry.add(a.entry);
    registry.add(b.entry);
    await registry.closeAll();
    assert.equal(registry.size, 0);
    assert.ok(a.closed.value && b.closed.value);
  });
});
