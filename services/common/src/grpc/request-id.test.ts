/**
 * A request id crosses services: a client call made while serving a request sends `x-request-id`, the
 * server serves under it (logs and onward calls carry it), and a call without one gets a fresh id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { pollerV1 } from '@callgate/protos';
import { Metadata } from '@grpc/grpc-js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { currentRequestId, withRequestId } from '../request-context.js';
import { connectService, type PromiseClient } from './client.js';
import { type AsyncHandlers, unimplementedHandlers } from './handlers.js';
import { loadProto, protoDefinition } from './load.js';
import { GrpcServer } from './server.js';

type Handlers = AsyncHandlers<pollerV1.PollerServiceHandlers>;
type PollerClient = PromiseClient<pollerV1.PollerServiceDefinition>;
const FULL_NAME = 'callgate.poller.v1.PollerService';
const PollerService = loadProto('poller').callgate.poller.v1.PollerService;
const definition = PollerService.service;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const logLines: Record<string, unknown>[] = [];
const log = createLogger('relay', 'info', { write: (line: string) => void logLines.push(JSON.parse(line)) });

async function start(name: string, handlers: Partial<Handlers>) {
  const all = { ...unimplementedHandlers<pollerV1.PollerServiceHandlers>(definition, 'unused'), ...handlers };
  const server = new GrpcServer({ name, log, metrics: createMetrics(name, { defaultMetrics: false }) }).add({
    fullName: FULL_NAME,
    definition,
    handlers: all,
    packageDefinition: protoDefinition('poller'),
  });
  const port = await server.listen('127.0.0.1', 0);
  return {
    server,
    client: connectService('poller', `127.0.0.1:${port}`),
  };
}

const empty = { queueDepth: 0 } as unknown as pollerV1.GetStatusResponse;

describe('request id propagation over gRPC', () => {
  let last: { server: GrpcServer; client: PollerClient };
  let first: { server: GrpcServer; client: PollerClient };
  const seenByLast: (string | undefined)[] = [];
  const seenByFirst: (string | undefined)[] = [];

  before(async () => {
    // The last hop records the id it serves under and logs through its call context.
    last = await start('last', {
      GetStatus: async (_request, ctx) => {
        seenByLast.push(currentRequestId());
        ctx.log.info('last hop served');
        return empty;
      },
    });
    // The first hop calls the last one without passing anything on by hand.
    first = await start('first', {
      GetStatus: async () => {
        seenByFirst.push(currentRequestId());
        await last.client.getStatus({});
        return empty;
      },
    });
  });

  after(async () => {
    first.client.close();
    last.client.close();
    await Promise.all([first.server.shutdown(1000), last.server.shutdown(1000)]);
  });

  it('reaches the second hop and its log lines', async () => {
    seenByLast.length = 0;
    await withRequestId('req-abc-123', () => first.client.getStatus({}));
    assert.deepEqual(seenByLast, ['req-abc-123']);
    const served = logLines.filter((line) => line.msg === 'last hop served');
    assert.equal(served.at(-1)?.requestId, 'req-abc-123');
  });

  it('a call without an id is served under a fresh one, shared by its onward calls', async () => {
    seenByLast.length = 0;
    seenByFirst.length = 0;
    await first.client.getStatus({});
    assert.match(String(seenByFirst[0]), UUID);
    assert.deepEqual(seenByLast, seenByFirst);
  });

  it('an id that could inject into logs or headers is replaced, not trusted', async () => {
    seenByLast.length = 0;
    const metadata = new Metadata();
    metadata.set('x-request-id', `${'x'.repeat(200)}`);
    await last.client.getStatus({}, { metadata });
    const bad = new Metadata();
    bad.set('x-request-id', 'id with spaces {"level":"fatal"}');
    await last.client.getStatus({}, { metadata: bad });
    assert.equal(seenByLast.length, 2);
    for (const id of seenByLast) assert.match(String(id), UUID);
  });

  it('an id set by the caller in metadata wins over the ambient one', async () => {
    seenByLast.length = 0;
    const metadata = new Metadata();
    metadata.set('x-request-id', 'explicit-1');
    await withRequestId('ambient-1', () => last.client.getStatus({}, { metadata }));
    assert.deepEqual(seenByLast, ['explicit-1']);
  });
});
