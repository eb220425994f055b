import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { pollerV1 } from '@callgate/protos';
import { Metadata, status } from '@grpc/grpc-js';
import { within } from '../../../../test/support/within.js';
import { errorDetailOf, STATUS_DETAILS_KEY } from '../error-detail.js';
import {
  failedPrecondition,
  type GrpcError,
  invalidArgument,
  isGrpcError,
  unavailable,
  unimplemented,
} from '../errors.js';
import { createLogger } from '../logger.js';
import { createMetrics, type ServiceMetrics } from '../metrics.js';
import { connectService, type PromiseClient } from './client.js';
import { type AsyncHandlers, type CallContext, unimplementedHandlers } from './handlers.js';
import { checkServing } from './health-client.js';
import { loadProto, protoDefinition } from './load.js';
import { GrpcServer, type RegisteredService } from './server.js';

type PollerHandlers = AsyncHandlers<pollerV1.PollerServiceHandlers>;
type PollerClient = PromiseClient<pollerV1.PollerServiceDefinition>;

const FULL_NAME = 'callgate.poller.v1.PollerService';
const PollerService = loadProto('poller').callgate.poller.v1.PollerService;
const definition = PollerService.service;
const log = createLogger('test', 'silent');

/** A promise with its resolve function, for handlers a test releases or observes. */
function deferred<T = void>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Awaits a call that must fail and returns its gRPC error. */
async function grpcFailure(call: Promise<unknown>): Promise<GrpcError> {
  let thrown: unknown;
  try {
    await call;
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown !== undefined, 'the call succeeded but was expected to fail');
  assert.ok(isGrpcError(thrown), `expected a gRPC error, got ${String(thrown)}`);
  return thrown;
}

const noMetrics = () => createMetrics('unused', { defaultMetrics: false });

function pollerService(handlers: PollerHandlers): RegisteredService {
  return { fullName: FULL_NAME, definition, handlers, packageDefinition: protoDefinition('poller') };
}

async function startServer(name: string, handlers: PollerHandlers, metrics: ServiceMetrics = noMetrics()) {
  const server = new GrpcServer({ name, log, metrics }).add(pollerService(handlers));
  const port = await server.listen('127.0.0.1', 0);
  assert.ok(port > 0, 'listen resolves with the bound port');
  return { server, address: `127.0.0.1:${port}` };
}

function connect(
  address: string,
  options: { defaultDeadlineMs?: number; metrics?: ServiceMetrics } = {},
): PollerClient {
  return connectService('poller', address, options);
}

/** Waits on the handler's signal; resolves with it once aborted. */
function untilAborted(ctx: CallContext): Promise<AbortSignal> {
  return new Promise((resolve) => {
    if (ctx.signal.aborted) resolve(ctx.signal);
    else ctx.signal.addEventListener('abort', () => resolve(ctx.signal), { once: true });
  });
}

/** The value of one Prometheus sample in exposition text, 0 when the series does not exist yet. */
function sample(text: string, metric: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const labelText = line.slice(metric.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([key, value]) => labelText.split(',').includes(`${key}="${value}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return 0;
}

describe('gRPC server and client', () => {
  // Each test installs its own behaviour under a name and sends that name as metadata.
  const cases = new Map<string, Partial<PollerHandlers>>();
  const caseOf = (ctx: CallContext) => {
    const name = String(ctx.metadata.get('x-test-case')[0] ?? '');
    const behaviour = cases.get(name);
    if (!behaviour) throw invalidArgument('x-test-case', `no test case named "${name}"`);
    return behaviour;
  };
  const handlers: PollerHandlers = {
    GetStatus: async (request, ctx) => {
      const handler = caseOf(ctx).GetStatus;
      if (!handler) throw new Error('test case has no GetStatus');
      return handler(request, ctx);
    },
    Drain: async (request, ctx) => {
      const handler = caseOf(ctx).Drain;
      if (!handler) throw new Error('test case has no Drain');
      return handler(request, ctx);
    },
  };
  const asCase = (name: string, behaviour: Partial<PollerHandlers>) => {
    cases.set(name, behaviour);
    const metadata = new Metadata();
    metadata.set('x-test-case', name);
    return metadata;
  };

  const serverMetrics = createMetrics('poller-test', { defaultMetrics: false });
  const clientMetrics = createMetrics('gateway-test', { defaultMetrics: false });
  let server: GrpcServer;
  let address: string;
  let client: PollerClient;

  before(async () => {
    ({ server, address } = await startServer('poller-test', handlers, serverMetrics));
    server.setServing(true);
    client = connect(address, { metrics: clientMetrics });
  });

  after(async () => {
    client?.close();
    await server?.shutdown(1000);
  });

  it('a unary call round-trips request, response and metadata', async () => {
    let seen: { timeoutSeconds: number; traceId: unknown } | undefined;
    const metadata = asCase('round-trip', {
      Drain: async (request, ctx) => {
        seen = { timeoutSeconds: request.timeoutSeconds, traceId: ctx.metadata.get('x-trace-id')[0] };
        return { finished: request.timeoutSeconds * 2, released: 1 };
      },
      GetStatus: async () => ({
        messagesReceived: 42,
        inFlight: 3,
        queueLagSeconds: 1.5,
        ready: true,
        sweep: { leader: true, checkpointCursor: 'cursor-9' },
      }),
    });
    metadata.set('x-trace-id', 'trace-123');

    assert.deepEqual(await client.drain({ timeoutSeconds: 7 }, { metadata }), { finished: 14, released: 1 });
    assert.deepEqual(seen, { timeoutSeconds: 7, traceId: 'trace-123' });

    const statusResponse = await client.getStatus({}, { metadata });
    assert.equal(statusResponse.messagesReceived, 42);
    assert.equal(statusResponse.messagesProcessed, 0, 'unset fields arrive as defaults');
    assert.equal(statusResponse.inFlight, 3);
    assert.equal(statusResponse.queueLagSeconds, 1.5);
    assert.equal(statusResponse.ready, true);
    assert.equal(statusResponse.sweep?.leader, true);
    assert.equal(statusResponse.sweep?.checkpointCursor, 'cursor-9');
    assert.equal(statusResponse.sweep?.backlog, 0);
  });

  it('invalidArgument arrives as INVALID_ARGUMENT with its message and the field in its typed detail', async () => {
    const metadata = asCase('invalid', {
      Drain: async () => {
        throw invalidArgument('timeout_seconds', 'must be between 0 and 300');
      },
    });
    const error = await grpcFailure(client.drain({ timeoutSeconds: -1 }, { metadata }));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.details, 'timeout_seconds: must be between 0 and 300');
    assert.deepEqual(errorDetailOf(error), {
      reason: 'ERROR_REASON_INVALID_FIELD',
      retryable: false,
      field: 'timeout_seconds',
      notPlaced: false,
      outcomeUnknown: false,
    });
  });

  it('domain error details travel as a google.rpc.Status in grpc-status-details-bin, figures included', async () => {
    const metadata = asCase('precondition-details', {
      Drain: async () => {
        throw failedPrecondition('not enough credits: this needs 20, 0 are available', {
          reason: 'ERROR_REASON_INSUFFICIENT_CREDITS',
          neededCredits: 20,
          availableCredits: 0,
        });
      },
    });
    const error = await grpcFailure(client.drain({}, { metadata }));
    assert.equal(error.code, status.FAILED_PRECONDITION);
    assert.equal(error.details, 'not enough credits: this needs 20, 0 are available');
    const detail = errorDetailOf(error);
    assert.equal(detail?.reason, 'ERROR_REASON_INSUFFICIENT_CREDITS');
    assert.equal(detail?.neededCredits, 20);
    assert.equal(detail?.availableCredits, 0, 'a zero is a figure, not an absence');
    assert.equal(detail?.retryable, false);
    // The standard rich error model: the same code and message, the detail as an Any.
    const raw = error.metadata?.get(STATUS_DETAILS_KEY)[0];
    assert.ok(Buffer.isBuffer(raw));
    assert.ok(raw.includes(Buffer.from('type.googleapis.com/callgate.common.v1.ErrorDetail')));
    // Only there: no metadata strings of our own beside it.
    const keys = Object.keys(error.metadata?.getMap() ?? {});
    assert.deepEqual(
      keys.filter((key) => key.startsWith('x-callgate-')),
      [],
      'the detail travels only in grpc-status-details-bin',
    );
  });

  it('an outage is retryable in its detail; a failure relayed from another tier carries none', async () => {
    const metadata = asCase('outage-details', {
      Drain: async () => {
        throw unavailable('the queue is unavailable');
      },
    });
    const error = await grpcFailure(client.drain({}, { metadata }));
    assert.equal(errorDetailOf(error)?.retryable, true);
    assert.equal(errorDetailOf(new Error('no metadata')), undefined);
    assert.equal(errorDetailOf(Object.assign(new Error('x'), { metadata: new Metadata() })), undefined);
  });

  it('a plain Error arrives as INTERNAL without leaking its message', async () => {
    const secret = 'password=hunter2 at db.internal:5432';
    const metadata = asCase('plain-error', {
      GetStatus: async () => {
        throw new Error(secret);
      },
    });
    const error = await grpcFailure(client.getStatus({}, { metadata }));
    assert.equal(error.code, status.INTERNAL);
    assert.equal(error.details, 'internal error; it has been logged');
    assert.ok(!error.message.includes('hunter2'), `message leaks the original: ${error.message}`);
    assert.ok(!error.details.includes('hunter2'));
    const keys = Object.keys(error.metadata?.getMap() ?? {});
    assert.deepEqual(
      keys.filter((key) => key.startsWith('x-callgate-') || key === STATUS_DETAILS_KEY),
      [],
      'no error details either',
    );
  });

  it("the client's default deadline ends a slow call with DEADLINE_EXCEEDED and aborts the handler's signal", async () => {
    const quick = connect(address, { defaultDeadlineMs: 100 });
    const handlerAborted = deferred<AbortSignal>();
    const metadata = asCase('deadline', {
      GetStatus: async (_request, ctx) => {
        const signal = await untilAborted(ctx);
        handlerAborted.resolve(signal);
        throw signal.reason;
      },
    });
    try {
      const startedAt = Date.now();
      const error = await grpcFailure(quick.getStatus({}, { metadata }));
      assert.equal(error.code, status.DEADLINE_EXCEEDED);
      // The 100 ms default, not createClient's 5000 ms fallback (generous bound for slow machines).
      assert.ok(Date.now() - startedAt < 2500, `took ${Date.now() - startedAt} ms`);

      const signal = await within(handlerAborted.promise, "the handler's signal to abort");
      assert.equal(signal.aborted, true);
      assert.match(String((signal.reason as Error).message), /cancelled/);
    } finally {
      quick.close();
    }
  });

  it('a deadline given per call overrides the default', async () => {
    const quick = connect(address, { defaultDeadlineMs: 1 });
    const metadata = asCase('own-deadline', { Drain: async () => ({ finished: 1, released: 0 }) });
    try {
      assert.deepEqual(await quick.drain({}, { metadata, deadlineMs: 5000 }), { finished: 1, released: 0 });
    } finally {
      quick.close();
    }
  });

  it('cancelling through an AbortSignal aborts the handler', async () => {
    const handlerStarted = deferred();
    const handlerAborted = deferred<AbortSignal>();
    const metadata = asCase('client-cancel', {
      Drain: async (_request, ctx) => {
        handlerStarted.resolve();
        const signal = await untilAborted(ctx);
        handlerAborted.resolve(signal);
        return { finished: 0, released: 0 };
      },
    });
    const controller = new AbortController();
    const call = grpcFailure(client.drain({}, { metadata, signal: controller.signal }));
    await within(handlerStarted.promise, 'the handler to start');
    controller.abort();
    assert.equal((await call).code, status.CANCELLED);
    assert.equal((await within(handlerAborted.promise, "the handler's signal to abort")).aborted, true);
  });

  it('UNAVAILABLE is retried: two failures then success returns the success after 3 calls', async () => {
    let calls = 0;
    const metadata = asCase('flaky', {
      Drain: async () => {
        calls++;
        if (calls <= 2) throw unavailable('warming up');
        return { finished: calls, released: 0 };
      },
    });
    assert.deepEqual(await client.drain({}, { metadata }), { finished: 3, released: 0 });
    assert.equal(calls, 3);
  });

  it('UNAVAILABLE is retried at most maxAttempts times', async () => {
    let calls = 0;
    const metadata = asCase('always-unavailable', {
      Drain: async () => {
        calls++;
        throw unavailable('down for good');
      },
    });
    const error = await grpcFailure(client.drain({}, { metadata }));
    assert.equal(error.code, status.UNAVAILABLE);
    assert.equal(error.details, 'down for good');
    assert.equal(calls, 4);
  });

  it('FAILED_PRECONDITION is not retried: the handler runs exactly once', async () => {
    let calls = 0;
    const metadata = asCase('precondition', {
      Drain: async () => {
        calls++;
        throw failedPrecondition('already draining');
      },
    });
    const error = await grpcFailure(client.drain({}, { metadata }));
    assert.equal(error.code, status.FAILED_PRECONDITION);
    assert.equal(error.details, 'already draining');
    assert.equal(calls, 1);
  });

  it('metrics count handled calls by method and code on both sides', async () => {
    const serverText = () => serverMetrics.registry.metrics();
    const clientText = () => clientMetrics.registry.metrics();
    const serverOk = { grpc_service: FULL_NAME, grpc_method: 'Drain', grpc_code: 'OK' };
    const serverInvalid = { grpc_service: FULL_NAME, grpc_method: 'GetStatus', grpc_code: 'INVALID_ARGUMENT' };
    const clientOk = { grpc_service: FULL_NAME, grpc_method: 'Drain', grpc_code: 'OK' };
    const clientInvalid = { grpc_service: FULL_NAME, grpc_method: 'GetStatus', grpc_code: 'INVALID_ARGUMENT' };
    const before = {
      serverOk: sample(await serverText(), 'grpc_server_handled_total', serverOk),
      serverInvalid: sample(await serverText(), 'grpc_server_handled_total', serverInvalid),
      clientOk: sample(await clientText(), 'grpc_client_handled_total', clientOk),
      clientInvalid: sample(await clientText(), 'grpc_client_handled_total', clientInvalid),
      serverDrainTimed: sample(await serverText(), 'grpc_server_handling_seconds_count', {
        grpc_service: FULL_NAME,
        grpc_method: 'Drain',
      }),
    };

    const metadata = asCase('metrics', {
      Drain: async () => ({ finished: 0, released: 0 }),
      GetStatus: async () => {
        throw invalidArgument('x', 'bad');
      },
    });
    await client.drain({}, { metadata });
    await grpcFailure(client.getStatus({}, { metadata }));

    const server = await serverText();
    const clientSide = await clientText();
    assert.match(server, /^grpc_server_handled_total\{.*grpc_method="Drain".*grpc_code="OK"/m);
    assert.match(clientSide, /^grpc_client_handled_total\{.*grpc_method="GetStatus".*grpc_code="INVALID_ARGUMENT"/m);
    assert.equal(sample(server, 'grpc_server_handled_total', serverOk), before.serverOk + 1);
    assert.equal(sample(server, 'grpc_server_handled_total', serverInvalid), before.serverInvalid + 1);
    assert.equal(sample(clientSide, 'grpc_client_handled_total', clientOk), before.clientOk + 1);
    assert.equal(sample(clientSide, 'grpc_client_handled_total', clientInvalid), before.clientInvalid + 1);
    assert.equal(
      sample(server, 'grpc_server_handling_seconds_count', { grpc_service: FULL_NAME, grpc_method: 'Drain' }),
      before.serverDrainTimed + 1,
    );
    assert.ok(
      sample(clientSide, 'grpc_client_handling_seconds_count', { grpc_service: FULL_NAME, grpc_method: 'Drain' }) >= 1,
      'client latency is observed',
    );
  });

  it('each retry attempt is counted by the server, the call once by the client', async () => {
    let calls = 0;
    const metadata = asCase('flaky-metrics', {
      GetStatus: async () => {
        calls++;
        if (calls === 1) throw unavailable('once');
        return { ready: true };
      },
    });
    const serverUnavailable = { grpc_service: FULL_NAME, grpc_method: 'GetStatus', grpc_code: 'UNAVAILABLE' };
    const clientUnavailable = { grpc_service: FULL_NAME, grpc_method: 'GetStatus', grpc_code: 'UNAVAILABLE' };
    const serverBefore = sample(await serverMetrics.registry.metrics(), 'grpc_server_handled_total', serverUnavailable);
    const clientBefore = sample(await clientMetrics.registry.metrics(), 'grpc_client_handled_total', clientUnavailable);
    assert.equal((await client.getStatus({}, { metadata })).ready, true);
    assert.equal(
      sample(await serverMetrics.registry.metrics(), 'grpc_server_handled_total', serverUnavailable),
      serverBefore + 1,
    );
    assert.equal(
      sample(await clientMetrics.registry.metrics(), 'grpc_client_handled_total', clientUnavailable),
      clientBefore,
    );
  });
});

describe('GrpcServer health', () => {
  let server: GrpcServer;
  let address: string;
  const probeClient = () => connect(address);

  before(async () => {
    ({ server, address } = await startServer('health-test', {
      GetStatus: async () => ({ ready: true }),
      Drain: async () => ({}),
    }));
  });

  after(async () => {
    await server?.shutdown(1000);
  });

  it('is NOT_SERVING before setServing(true), for the server and for the service', async () => {
    await assert.rejects(checkServing(address), { message: 'health status is NOT_SERVING' });
    await assert.rejects(checkServing(address, FULL_NAME), { message: 'health status is NOT_SERVING' });
  });

  it('is SERVING after setServing(true), also through an existing client channel', async () => {
    server.setServing(true);
    await checkServing(address);
    await checkServing(address, FULL_NAME);
    const client = probeClient();
    try {
      await checkServing(client.raw, FULL_NAME);
    } finally {
      client.close();
    }
  });

  it('answers NOT_FOUND for a service it does not host', async () => {
    const error = await grpcFailure(checkServing(address, 'callgate.nope.v1.NopeService'));
    assert.equal(error.code, status.NOT_FOUND);
  });

  it('setServing(false) makes it NOT_SERVING again', async () => {
    server.setServing(false);
    await assert.rejects(checkServing(address), { message: 'health status is NOT_SERVING' });
    await assert.rejects(checkServing(address, FULL_NAME), { message: 'health status is NOT_SERVING' });
    server.setServing(true);
    await checkServing(address);
  });

  it('is NOT_SERVING or unreachable after shutdown', async () => {
    await checkServing(address);
    const result = await server.shutdown(1000);
    assert.deepEqual(result, { drained: 0, forced: false });
    const error: unknown = await checkServing(address, '', 1000).then(
      () => assert.fail('health check succeeded after shutdown'),
      (e: unknown) => e,
    );
    assert.ok(
      (isGrpcError(error) && error.code === status.UNAVAILABLE) ||
        (error instanceof Error && error.message === 'health status is NOT_SERVING'),
      `unexpected failure after shutdown: ${String(error)}`,
    );
  });
});

describe('GrpcServer.shutdown', () => {
  it('lets an in-flight call finish and reports it as drained', async () => {
    const started = deferred();
    const release = deferred();
    const { server, address } = await startServer('drain-test', {
      GetStatus: async () => {
        started.resolve();
        await release.promise;
        return { ready: true, inFlight: 1 };
      },
      Drain: async () => ({}),
    });
    server.setServing(true);
    const client = connect(address);
    try {
      const call = client.getStatus({});
      await within(started.promise, 'the handler to start');
      assert.equal(server.inFlight.value, 1);

      const stopping = server.shutdown(5000);
      release.resolve();

      const response = await within(call, 'the in-flight call');
      assert.equal(response.ready, true);
      assert.equal(response.inFlight, 1);
      const result = await within(stopping, 'shutdown');
      assert.ok(result.drained >= 1, `drained ${result.drained}`);
      assert.deepEqual(result, { drained: 1, forced: false });
      assert.equal(server.inFlight.value, 0);

      // It takes no new calls.
      const refused = await grpcFailure(client.getStatus({}, { deadlineMs: 2000 }));
      assert.equal(refused.code, status.UNAVAILABLE);
    } finally {
      release.resolve();
      client.close();
      server.server.forceShutdown();
    }
  });

  it('cancels calls still running when the timeout passes and reports forced', async () => {
    const started = deferred();
    const handlerAborted = deferred<AbortSignal>();
    const { server, address } = await startServer('force-test', {
      GetStatus: async (_request, ctx) => {
        started.resolve();
        const signal = await untilAborted(ctx);
        handlerAborted.resolve(signal);
        throw signal.reason;
      },
      Drain: async () => ({}),
    });
    const client = connect(address);
    try {
      const call = grpcFailure(client.getStatus({}));
      await within(started.promise, 'the handler to start');
      const result = await within(server.shutdown(50), 'shutdown');
      assert.deepEqual(result, { drained: 1, forced: true });
      const error = await within(call, 'the cancelled call');
      assert.notEqual(error.code, status.OK);
      assert.equal((await within(handlerAborted.promise, "the handler's signal to abort")).aborted, true);
    } finally {
      client.close();
      server.server.forceShutdown();
    }
  });
});

describe('GrpcServer.add', () => {
  it('refuses handlers that leave a method out', () => {
    const server = new GrpcServer({ name: 'poller-test', log, metrics: noMetrics() });
    try {
      assert.throws(() => server.add(pollerService({ GetStatus: async () => ({}) } as unknown as PollerHandlers)), {
        message: 'poller-test.Drain has no handler',
      });
    } finally {
      server.server.forceShutdown();
    }
  });

  it('hosts two services on one server', async () => {
    const credit = loadProto('credit').callgate.credit.v1.CreditService;
    const server = new GrpcServer({ name: 'two-services', log, metrics: noMetrics() });
    try {
      server.add(pollerService({ GetStatus: async () => ({ ready: true }), Drain: async () => ({}) }));
      server.add({
        fullName: 'callgate.credit.v1.CreditService',
        definition: credit.service,
        handlers: unimplementedHandlers(credit.service, 'not here'),
        packageDefinition: protoDefinition('credit'),
      });
      const port = await server.listen('127.0.0.1', 0);
      const client = connect(`127.0.0.1:${port}`);
      try {
        assert.equal((await client.getStatus({})).ready, true);
      } finally {
        client.close();
      }
    } finally {
      server.server.forceShutdown();
    }
  });
});

describe('unimplementedHandlers', () => {
  let server: GrpcServer;
  let client: PollerClient;

  before(async () => {
    const started = await startServer(
      'unimplemented-test',
      unimplementedHandlers<pollerV1.PollerServiceHandlers>(definition, 'not available yet: arrives with issue #8'),
    );
    server = started.server;
    client = connect(started.address);
  });

  after(async () => {
    client?.close();
    await server?.shutdown(1000);
  });

  it('gives every method of the definition a handler', () => {
    const handlers = unimplementedHandlers<pollerV1.PollerServiceHandlers>(definition, 'x');
    assert.deepEqual(Object.keys(handlers).sort(), ['Drain', 'GetStatus']);
  });

  it('throws the same DomainError unimplemented() builds', async () => {
    const handlers = unimplementedHandlers<pollerV1.PollerServiceHandlers>(definition, 'later');
    await assert.rejects(handlers.Drain({ timeoutSeconds: 0 }, {} as CallContext), {
      name: 'DomainError',
      kind: 'unimplemented',
      message: unimplemented('Drain', 'later').message,
    });
  });

  for (const method of Object.keys(definition)) {
    it(`${method} answers UNIMPLEMENTED naming the method`, async () => {
      const key = method.charAt(0).toLowerCase() + method.slice(1);
      const call = (client as unknown as Record<string, (request: object) => Promise<unknown>>)[key];
      assert.equal(typeof call, 'function', `client has no ${key}`);
      const error = await grpcFailure(call?.call(client, {}) ?? Promise.resolve());
      assert.equal(error.code, status.UNIMPLEMENTED);
      assert.equal(error.details, `${method} is not available yet: arrives with issue #8`);
    });
  }
});
