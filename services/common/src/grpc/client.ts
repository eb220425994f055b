import {
  type CallOptions,
  type Client,
  credentials,
  InterceptingCall,
  type Interceptor,
  type Metadata,
  type ServiceDefinition,
  status,
} from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { ServiceMetrics } from '../metrics.js';
import { currentRequestId, REQUEST_ID_HEADER } from '../request-context.js';
import { tracingInterceptor } from '../tracing/grpc.js';
import { RETRY_POLICY } from './retry.js';

export interface ClientOptions {
  /** Fully qualified service name, for the retry policy, e.g. "callgate.call.v1.CallService". */
  fullName: string;
  /** Deadline applied to every call that does not set its own. Default 5000 ms. */
  defaultDeadlineMs?: number;
  /** Where client-side call counts and latencies go (the calling service's registry). */
  metrics?: ServiceMetrics;
}

type ClientConstructor<C> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: object,
) => C;

/**
 * A gRPC client with a deadline on every call, retries with backoff on UNAVAILABLE and
 * RESOURCE_EXHAUSTED only (grpc-js enforces the service config), keepalive, and metrics.
 */
export function createClient<C extends Client>(Ctor: ClientConstructor<C>, address: string, options: ClientOptions): C {
  const deadlineMs = options.defaultDeadlineMs ?? 5000;
  const interceptors: Interceptor[] = [deadlineInterceptor(deadlineMs), tracingInterceptor, requestIdInterceptor];
  if (options.metrics) interceptors.push(metricsInterceptor(options.metrics, options.fullName));
  return new Ctor(address, credentials.createInsecure(), {
    interceptors,
    'grpc.service_config': JSON.stringify({
      methodConfig: [{ name: [{ service: options.fullName }], retryPolicy: RETRY_POLICY }],
    }),
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 10_000,
  });
}

function deadlineInterceptor(ms: number): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options.deadline ? options : { ...options, deadline: Date.now() + ms }));
}

/** Passes the request being served on to the called service, so its logs name the same request. */
const requestIdInterceptor: Interceptor = (options, nextCall) =>
  new InterceptingCall(nextCall(options), {
    start(metadata, listener, next) {
      const requestId = currentRequestId();
      if (requestId && metadata.get(REQUEST_ID_HEADER).length === 0) metadata.set(REQUEST_ID_HEADER, requestId);
      next(metadata, listener);
    },
  });

function metricsInterceptor(metrics: ServiceMetrics, service: string): Interceptor {
  return (options, nextCall) => {
    const method = options.method_definition.path.split('/').pop() ?? 'unknown';
    const labels = { grpc_service: service, grpc_method: method };
    const stop = metrics.grpcClientDuration.startTimer(labels);
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        next(metadata, {
          onReceiveStatus(s, nextStatus) {
            stop();
            metrics.grpcClientHandled.inc({ ...labels, grpc_code: status[s.code] });
            nextStatus(s);
          },
        });
      },
    });
  };
}

/** Unary methods of a service definition as promise-returning functions. */
export type AsyncClient<D extends ServiceDefinition> = {
  [K in keyof D as string extends K
    ? never
    : K extends string
      ? Uncapitalize<K>
      : never]: D[K] extends MethodDefinition<infer Req, infer _ResponseIn, infer _RequestOut, infer Res>
    ? (request: Req, options?: { metadata?: Metadata; deadlineMs?: number; signal?: AbortSignal }) => Promise<Res>
    : never;
};

/**
 * Promise face for a client's unary methods. Server-streaming methods stay on the raw client
 * (`client.raw`), where the caller owns the stream and its deadline.
 */
export type PromiseClient<D extends ServiceDefinition> = AsyncClient<D> & { raw: Client; close(): void };

export function asyncClient<D extends ServiceDefinition>(raw: Client, definition: D): PromiseClient<D> {
  const face: Record<string, unknown> = {
    raw,
    close: () => raw.close(),
  };
  for (const [name, spec] of Object.entries(definition)) {
    if (spec.responseStream || spec.requestStream) continue;
    const key = name.charAt(0).toLowerCase() + name.slice(1);
    const fn = (raw as unknown as Record<string, (...args: unknown[]) => { cancel(): void }>)[key];
    if (typeof fn !== 'function') continue;
    face[key] = (
      request: unknown,
      opts: { metadata?: Metadata; deadlineMs?: number; signal?: AbortSignal } = {},
    ): Promise<unknown> =>
      new Promise((resolve, reject) => {
        const callOptions: CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
        const args: unknown[] = [request];
        if (opts.metadata) args.push(opts.metadata);
        args.push(callOptions, (error: Error | null, response: unknown) => (error ? reject(error) : resolve(response)));
        const call = fn.apply(raw, args);
        opts.signal?.addEventListener('abort', () => call.cancel(), { once: true });
      });
  }
  return face as PromiseClient<D>;
}
