import type {
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
  sendUnaryData,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { context, trace } from '@opentelemetry/api';
import { toGrpcStatus, unimplemented } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ServiceMetrics } from '../metrics.js';
import { acceptRequestId, REQUEST_ID_HEADER, withRequestId } from '../request-context.js';
import { endServerCallSpan, serverCallContext } from '../tracing/grpc.js';

/** What a handler knows about the call besides its request. */
export interface CallContext {
  metadata: Metadata;
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
  log: Logger;
}

type KnownKeys<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

/**
 * Handlers as async functions, derived from the generated `…Handlers` interface: a unary method
 * returns its response; a server-streaming method awaits `send` for each message (which respects
 * back-pressure) and returns when the stream is complete. A thrown DomainError becomes its status.
 */
export type AsyncHandlers<H extends UntypedServiceImplementation> = {
  [K in keyof KnownKeys<H>]: H[K] extends handleServerStreamingCall<infer Req, infer Res>
    ? (request: Req, ctx: CallContext, send: (message: Res) => Promise<void>) => Promise<void>
    : H[K] extends handleUnaryCall<infer Req, infer Res>
      ? (request: Req, ctx: CallContext) => Promise<Res>
      : never;
};

export interface HandlerRuntime {
  /** The service's name in logs, e.g. "call". */
  serviceName: string;
  /** The fully qualified gRPC service, e.g. "callgate.call.v1.CallService", for metric labels. */
  grpcService: string;
  log: Logger;
  metrics: ServiceMetrics;
  /** Counts calls in flight so shutdown can report what it drained. */
  inFlight: { value: number };
}

/** Wraps async handlers into grpc-js handlers with logging, metrics and error mapping. */
export function toGrpcImplementation(
  definition: ServiceDefinition,
  handlers: Record<string, (...args: never[]) => Promise<unknown>>,
  runtime: HandlerRuntime,
): UntypedServiceImplementation {
  const implementation: Record<string, UntypedHandleCall> = {};
  for (const [method, spec] of Object.entries(definition)) {
    const handler = handlers[method] as unknown as (...args: unknown[]) => Promise<unknown>;
    if (typeof handler !== 'function') throw new Error(`${runtime.serviceName}.${method} has no handler`);
    implementation[method] = spec.responseStream
      ? inRequestContext(runtime, method, streaming(method, handler, runtime))
      : inRequestContext(runtime, method, unary(method, handler, runtime));
  }
  return implementation;
}

/**
 * Serves each call as part of the caller's request (its `x-request-id`, or a new id): every log line
 * and every onward gRPC call made while handling it carries that id. Likewise its trace: the call runs
 * in its SERVER span, continuing the caller's trace (`traceparent` metadata); observe() ends the span.
 */
function inRequestContext<C extends { metadata: Metadata }, A extends unknown[]>(
  runtime: HandlerRuntime,
  method: string,
  handle: (call: C, ...rest: A) => void,
): (call: C, ...rest: A) => void {
  return (call, ...rest) => {
    const traced = serverCallContext(runtime.serviceName, `/${runtime.grpcService}/${method}`, call.metadata);
    context.with(traced, () =>
      withRequestId(acceptRequestId(call.metadata.get(REQUEST_ID_HEADER)), () => handle(call, ...rest)),
    );
  };
}

function contextFor(
  call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>,
  method: string,
  runtime: HandlerRuntime,
): CallContext {
  const controller = new AbortController();
  call.once('cancelled', () => controller.abort(new Error('call cancelled by client or deadline')));
  return { metadata: call.metadata, signal: controller.signal, log: runtime.log.child({ rpc: method }) };
}

function observe(runtime: HandlerRuntime, method: string) {
  runtime.inFlight.value++;
  const span = trace.getActiveSpan(); // the call's SERVER span (inRequestContext), when tracing is on
  const labels = { grpc_service: runtime.grpcService, grpc_method: method };
  const stop = runtime.metrics.grpcServerDuration.startTimer(labels);
  return (code: status, error?: unknown) => {
    runtime.inFlight.value--;
    stop();
    runtime.metrics.grpcServerHandled.inc({ ...labels, grpc_code: status[code] });
    endServerCallSpan(span, code, error);
    // Per-call lines at debug: with the request id (logger mixin) they trace one request across services.
    if (code === status.OK) runtime.log.debug({ rpc: method }, 'gRPC call served');
    else if (code === status.INTERNAL || code === status.UNKNOWN) {
      runtime.log.error({ rpc: method, err: error }, 'gRPC handler failed');
    } else {
      runtime.log.debug({ rpc: method, code: status[code], reason: (error as Error)?.message }, 'gRPC call refused');
    }
  };
}

function unary(method: string, handler: (...args: unknown[]) => Promise<unknown>, runtime: HandlerRuntime) {
  return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
    const done = observe(runtime, method);
    handler(call.request, contextFor(call, method, runtime)).then(
      (response) => {
        done(status.OK);
        callback(null, response);
      },
      (error: unknown) => {
        const s = toGrpcStatus(error);
        done(s.code, error);
        callback(s);
      },
    );
  };
}

function streaming(method: string, handler: (...args: unknown[]) => Promise<unknown>, runtime: HandlerRuntime) {
  return (call: ServerWritableStream<unknown, unknown>) => {
    const done = observe(runtime, method);
    // Waits for the client to take the message; rejects when the call is cancelled meanwhile, so a
    // handler blocked on a slow reader does not hang forever.
    const send = (message: unknown) =>
      new Promise<void>((resolve, reject) => {
        if (call.cancelled) return reject(new Error('call cancelled'));
        if (call.write(message)) return resolve();
        const onDrain = () => {
          call.off('cancelled', onCancel);
          resolve();
        };
        const onCancel = () => {
          call.off('drain', onDrain);
          reject(new Error('call cancelled'));
        };
        call.once('drain', onDrain);
        call.once('cancelled', onCancel);
      });
    handler(call.request, contextFor(call, method, runtime), send).then(
      () => {
        done(status.OK);
        call.end();
      },
      (error: unknown) => {
        const s = toGrpcStatus(error);
        done(s.code, error);
        // grpc-js turns an 'error' event on a server stream into the call's final status.
        call.emit('error', s);
      },
    );
  };
}

/**
 * Handlers that all answer UNIMPLEMENTED with a message naming what will provide them: the honest
 * state of a service whose issue has not landed yet. Replace them one by one as RPCs arrive.
 */
export function unimplementedHandlers<H extends UntypedServiceImplementation>(
  definition: ServiceDefinition,
  detail: string,
): AsyncHandlers<H> {
  const handlers: Record<string, () => Promise<never>> = {};
  for (const method of Object.keys(definition)) {
    handlers[method] = async () => {
      throw unimplemented(method, detail);
    };
  }
  return handlers as unknown as AsyncHandlers<H>;
}
