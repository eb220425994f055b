/** connectService: the one client factory, whose face turns unary calls into promises and server streams into async iterables. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { callV1 } from '@callgate/protos';
import { status } from '@grpc/grpc-js';
import { isGrpcError, notFound } from '../errors.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { connectService, type ServiceClient, serviceName } from './client.js';
import { type AsyncHandlers, unimplementedHandlers } from './handlers.js';
import { loadProto, protoDefinition } from './load.js';
import { GrpcServer } from './server.js';

const Call = loadProto('call').callgate.call.v1.CallService;

describe('connectService', () => {
  let server: GrpcServer;
  let client: ServiceClient<'call'>;

  before(async () => {
    const handlers: AsyncHandlers<callV1.CallServiceHandlers> = {
      ...unimplementedHandlers<callV1.CallServiceHandlers>(Call.service, 'not in this test'),
      GetCall: async (request) => {
        throw notFound('call', request.callId);
      },
      WatchCall: async (request, _ctx, send) => {
        for (let sequence = 1; sequence <= 3; sequence++) {
          await send({ callId: request.callId, event: { sequence, detail: `event ${sequence}` } });
        }
      },
    };
    server = new GrpcServer({
      name: 'face',
      log: createLogger('face', 'silent'),
      metrics: createMetrics('face', { defaultMetrics: false }),
    });
    server.add({
      fullName: serviceName('call'),
      definition: Call.service,
      handlers,
      packageDefinition: protoDefinition('call'),
    });
    client = connectService('call', `127.0.0.1:${await server.listen('127.0.0.1', 0)}`, { defaultDeadlineMs: 10_000 });
  });
  after(async () => {
    client.close();
    await server.shutdown(1000);
  });

  it('names each contract’s service', () => {
    assert.equal(serviceName('call'), 'callgate.call.v1.CallService');
    assert.equal(serviceName('sheets'), 'callgate.sheets.v1.SheetsSyncService');
  });

  it('a unary call is a promise that rejects with the gRPC status', async () => {
    const error = await client.getCall({ userId: 'u', callId: 'c9' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isGrpcError(error));
    assert.equal(error.code, status.NOT_FOUND);
    assert.equal(error.details, 'call c9 was not found');
  });

  it('a server stream is an async iterable of its messages', async () => {
    const seen: number[] = [];
    for await (const event of client.watchCall({ userId: 'u', callId: 'c1', afterSequence: 0 })) {
      seen.push(Number(event.event?.sequence));
    }
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it('a server stream ends with CANCELLED when its signal aborts', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const error = await (async () => {
      for await (const event of client.watchCall({ userId: 'u', callId: 'c1' }, { signal: controller.signal })) {
        seen.push(Number(event.event?.sequence));
        controller.abort();
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.deepEqual(seen, [1]);
    assert.ok(isGrpcError(error));
    assert.equal(error.code, status.CANCELLED);
  });
});
