/**
 * Failures that cross two hops: a service relays what its own downstream call failed with. The
 * downstream call is retried by the middle tier only; the edge does not retry it again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { pollerV1 } from '@callgate/protos';
import { status } from '@grpc/grpc-js';
import { isGrpcError, unavailable } from '../errors.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { connectService } from './client.js';
import type { AsyncHandlers } from './handlers.js';
import { loadProto, protoDefinition } from './load.js';
import { GrpcServer } from './server.js';

const Poller = loadProto('poller').callgate.poller.v1.PollerService;
const FULL_NAME = 'callgate.poller.v1.PollerService';

async function serve(name: string, handlers: AsyncHandlers<pollerV1.PollerServiceHandlers>) {
  const server = new GrpcServer({
    name,
    log: createLogger(name, 'silent'),
    metrics: createMetrics(name, { defaultMetrics: false }),
  });
  server.add({
    fullName: FULL_NAME,
    definition: Poller.service,
    handlers,
    packageDefinition: protoDefinition('poller'),
  });
  const port = await server.listen('127.0.0.1', 0);
  return { server, address: `127.0.0.1:${port}` };
}

const client = (address: string) => connectService('poller', address, { defaultDeadlineMs: 10_000 });

describe('a relayed UNAVAILABLE', () => {
  let downstreamCalls = 0;
  let middleCalls = 0;
  let downstream: Awaited<ReturnType<typeof serve>>;
  let middle: Awaited<ReturnType<typeof serve>>;
  let toDownstream: ReturnType<typeof client>;

  before(async () => {
    downstream = await serve('downstream', {
      GetStatus: async () => {
        downstreamCalls++;
        throw unavailable('the database is down');
      },
      Drain: async () => ({}),
    });
    toDownstream = client(downstream.address);
    middle = await serve('middle', {
      // Lets the downstream failure escape, as a handler that does not catch it would.
      GetStatus: async () => {
        middleCalls++;
        return toDownstream.getStatus({});
      },
      Drain: async () => ({}),
    });
  });
  after(async () => {
    toDownstream.close();
    await middle.server.shutdown(1000);
    await downstream.server.shutdown(1000);
  });

  it('reaches the edge as UNAVAILABLE, retried at one tier only', async () => {
    const edge = client(middle.address);
    try {
      const error = await edge.getStatus({}).then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      assert.ok(isGrpcError(error));
      assert.equal(error.code, status.UNAVAILABLE);
      assert.equal(error.details, 'the database is down');
      assert.equal(middleCalls, 1, 'the edge did not retry the relayed failure');
      assert.equal(downstreamCalls, 4, 'the middle tier retried its own call (maxAttempts 4)');
    } finally {
      edge.close();
    }
  });
});
