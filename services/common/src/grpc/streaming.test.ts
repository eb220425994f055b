/** Server streams through the handler wrapper: back-pressure, and a client that goes away mid-stream. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { callV1 } from '@callgate/protos';
import { credentials } from '@grpc/grpc-js';
import { within } from '../../../../test/support/within.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { type AsyncHandlers, unimplementedHandlers } from './handlers.js';
import { loadProto, protoDefinition } from './load.js';
import { GrpcServer } from './server.js';

const Call = loadProto('call').callgate.call.v1.CallService;

describe('a server-streaming handler', () => {
  let server: GrpcServer;
  let address: string;
  let handlerSettled: Promise<unknown>;
  let settle: (outcome: unknown) => void;
  let sent = 0;

  before(async () => {
    handlerSettled = new Promise((resolve) => {
      settle = resolve;
    });
    const handlers: AsyncHandlers<callV1.CallServiceHandlers> = {
      ...unimplementedHandlers<callV1.CallServiceHandlers>(Call.service, 'not in this test'),
      // Streams large events as fast as the client takes them, forever, until send rejects.
      WatchCall: async (request, _ctx, send) => {
        const detail = 'x'.repeat(64 * 1024);
        try {
          for (;;) {
            await send({ callId: request.callId, event: { sequence: ++sent, detail } });
          }
        } catch (error) {
          settle(error);
          throw error;
        }
      },
    };
    server = new GrpcServer({
      name: 'stream',
      log: createLogger('stream', 'silent'),
      metrics: createMetrics('stream', { defaultMetrics: false }),
    });
    server.add({
      fullName: 'callgate.call.v1.CallService',
      definition: Call.service,
      handlers,
      packageDefinition: protoDefinition('call'),
    });
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  });
  after(async () => {
    await server.shutdown(1000);
  });

  it('waits for a slow reader, and stops waiting when the reader cancels', async () => {
    const client = new Call(address, credentials.createInsecure());
    const stream = client.watchCall({ userId: 'u', callId: 'c1' });
    stream.on('error', () => {}); // the cancel below ends the stream with CANCELLED
    // A reader that takes one event and then stops reading: the handler must block on back-pressure.
    const first = await within(
      new Promise<callV1.WatchCallEvent__Output>((resolve) =>
        stream.once('data', (event: callV1.WatchCallEvent__Output) => {
          stream.pause();
          resolve(event);
        }),
      ),
      'the first event',
    );
    assert.equal(first.callId, 'c1');
    stream.cancel();
    const outcome = await within(handlerSettled, 'the handler to give up after the cancel');
    assert.match(String(outcome), /cancelled/);
    assert.ok(sent < 10_000, `the handler was held back by the slow reader (sent ${sent})`);
    client.close();
  });
});
