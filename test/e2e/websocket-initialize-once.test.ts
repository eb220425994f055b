/**
 * A WebSocket connection initializes once. Found from outside (attack2 of issue 17): a second
 * `initialize` on a connection that had negotiated 2025-06-18 succeeded and renegotiated the revision to
 * 2025-03-26, after which JSON-RPC batches (removed in 2025-06-18) were accepted on that connection. Over HTTP the same second initialize
 * on a session is refused ("Server already initialized"). MCP: initialize is the first request of a
 * connection, once; the transports must agree.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { LocalSystem } from '../../scripts/local-system.js';
import { startTestSystem, tokenFor } from '../support/system.js';

let system: LocalSystem;
before(async () => {
  system = await startTestSystem();
});
after(async () => {
  await system.stop();
});

type Frame = { id?: unknown; result?: { protocolVersion?: string }; error?: { code: number; message: string } };

/** A raw MCP WebSocket: `ask` sends one text and resolves with the first answer carrying `id`. */
async function connect() {
  const ws = new WebSocket(system.mcpUrl.replace('http://', 'ws://'), 'mcp', {
    headers: { authorization: `Bearer ${tokenFor(system, 'attack2-reinit')}` },
  });
  const frames: Frame[] = [];
  const waiting = new Map<unknown, (frame: Frame) => void>();
  ws.on('message', (data) => {
    const parsed = JSON.parse(data.toString()) as Frame | Frame[];
    for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
      frames.push(frame);
      waiting.get(frame.id)?.(frame);
    }
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  /** Sends `text` (unless empty) and resolves with the first answer whose id is `id`. */
  const ask = (id: string | null, text: string) =>
    new Promise<Frame>((resolve) => {
      waiting.set(id, resolve);
      if (text) ws.send(text);
    });
  return { ws, ask };
}

const initialize = (id: string, protocolVersion: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'attack2', version: '1' } },
  });

describe('a second initialize on one WebSocket', () => {
  it('is refused with an error for its id, and the revision negotiated first still holds', async () => {
    const { ws, ask } = await connect();
    try {
      const first = await ask('init-1', initialize('init-1', '2025-06-18'));
      assert.equal(first.result?.protocolVersion, '2025-06-18');
      ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));

      const second = await ask('init-2', initialize('init-2', '2025-03-26'));
      assert.ok(second.error, `second initialize answered ${JSON.stringify(second.result)}`);
      assert.equal(second.error.code, -32600);
      assert.match(second.error.message, /already initialized; revision 2025-06-18 holds/);

      // Batches stay refused: 2025-06-18 removed them, whatever a later initialize asked for. A refused
      // batch is answered with id null, a served one with the entry's id: either answer settles this.
      const batch = await Promise.race([ask(null, '[{"jsonrpc":"2.0","id":"b1","method":"ping"}]'), ask('b1', '')]);
      assert.equal(batch.error?.code, -32600);
    } finally {
      ws.close();
    }
  });
});
