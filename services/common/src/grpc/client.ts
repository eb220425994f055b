import type { callV1, creditV1, ProtoDomain, pollerV1, sheetsV1 } from '@callgate/protos';
import {
  type CallOptions,
  type Client,
  type ClientReadableStream,
  credentials,
  InterceptingCall,
  type Interceptor,
  type Metadata,
  type ServiceClientConstructor,
  type ServiceDefinition,
  status,
} from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { ServiceMetrics } from '../metrics.js';
import { currentRequestId, REQUEST_ID_HEADER } from '../request-context.js';
import { tracingInterceptor } from '../tracing/grpc.js';
import { loadProto } from './load.js';
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

/** Per call: extra metadata, a deadline of its own (Infinity: none), and a signal that cancels the call. */
export interface CallFaceOptions {
  metadata?: Metadata;
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** A server stream: an async iterable of its messages (errors are thrown by the loop) that can be cancelled. */
export type ServerStream<Res> = ClientReadableStream<Res> & AsyncIterable<Res>;

/** Whether the generated client's method L returns a server stream. */
type IsServerStream<C, L> = L extends keyof C
  ? C[L] extends (...args: never[]) => ClientReadableStream<unknown>
    ? true
    : false
  : false;

/** The generated client class of a service definition, to tell server streams from unary methods. */
export type ClientOf<D> = D extends callV1.CallServiceDefinition
  ? callV1.CallServiceClient
  : D extends creditV1.CreditServiceDefinition
    ? creditV1.CreditServiceClient
    : D extends sheetsV1.SheetsSyncServiceDefinition
      ? sheetsV1.SheetsSyncServiceClient
      : D extends pollerV1.PollerServiceDefinition
        ? pollerV1.PollerServiceClient
        : Client;

/** A service's methods with a promise face: unary → Promise, server stream → ServerStream. */
export type AsyncClient<D extends ServiceDefinition> = {
  [K in keyof D as string extends K
    ? never
    : K extends string
      ? Uncapitalize<K>
      : never]: D[K] extends MethodDefinition<infer Req, infer _ResponseIn, infer _RequestOut, infer Res>
    ? IsServerStream<ClientOf<D>, Uncapitalize<K & string>> extends true
      ? (request: Req, options?: CallFaceOptions) => ServerStream<Res>
      : (request: Req, options?: CallFaceOptions) => Promise<Res>
    : never;
};

/**
 * Promise face for a client: unary methods return promises, server-streaming ones an async iterable
 * stream. `raw` is the grpc-js client (health checks); `close` ends its channel.
 */
export type PromiseClient<D extends ServiceDefinition> = AsyncClient<D> & { raw: Client; close(): void };

export function asyncClient<D extends ServiceDefinition>(raw: Client, definition: D): PromiseClient<D> {
  const face: Record<string, unknown> = {
    raw,
    close: () => raw.close(),
  };
  for (const [name, spec] of Object.entries(definition)) {
    if (spec.requestStream) continue;
    const key = name.charAt(0).toLowerCase() + name.slice(1);
    const fn = (raw as unknown as Record<string, (...args: unknown[]) => { cancel(): void }>)[key];
    if (typeof fn !== 'function') continue;
    const argsOf = (request: unknown, opts: CallFaceOptions): unknown[] => {
      const callOptions: CallOptions = opts.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
      return opts.metadata ? [request, opts.metadata, callOptions] : [request, callOptions];
    };
    const cancelOnAbort = (call: { cancel(): void }, signal: AbortSignal | undefined) => {
      if (signal?.aborted) call.cancel();
      else signal?.addEventListener('abort', () => call.cancel(), { once: true });
    };
    face[key] = spec.responseStream
      ? (request: unknown, opts: CallFaceOptions = {}) => {
          const call = fn.apply(raw, argsOf(request, opts));
          cancelOnAbort(call, opts.signal);
          return call;
        }
      : (request: unknown, opts: CallFaceOptions = {}): Promise<unknown> =>
          new Promise((resolve, reject) => {
            const args = argsOf(request, opts);
            args.push((error: Error | null, response: unknown) => (error ? reject(error) : resolve(response)));
            cancelOnAbort(fn.apply(raw, args), opts.signal);
          });
  }
  return face as PromiseClient<D>;
}

/** Each contract's service: its generated definition and its name inside the package. */
interface ServiceByDomain {
  call: callV1.CallServiceDefinition;
  credit: creditV1.CreditServiceDefinition;
  sheets: sheetsV1.SheetsSyncServiceDefinition;
  poller: pollerV1.PollerServiceDefinition;
}

const SERVICE_NAMES = {
  call: 'CallService',
  credit: 'CreditService',
  sheets: 'SheetsSyncService',
  poller: 'PollerService',
} as const satisfies Record<ProtoDomain, string>;

/** The fully qualified gRPC service name of a contract, e.g. "callgate.call.v1.CallService". */
export const serviceName = (domain: ProtoDomain): string => `callgate.${domain}.v1.${SERVICE_NAMES[domain]}`;

/** The promise client of one of our services. */
export type ServiceClient<N extends ProtoDomain> = PromiseClient<ServiceByDomain[N]>;

/**
 * The one way to connect to one of our services: a typed promise client (deadline on every call, retry
 * policy, request id, tracing, metrics) of the contract's service at address.
 */
export function connectService<N extends ProtoDomain>(
  domain: N,
  address: string,
  options: Omit<ClientOptions, 'fullName'> = {},
): ServiceClient<N> {
  const pkg = loadProto(domain).callgate as unknown as Record<string, { v1: Record<string, ServiceClientConstructor> }>;
  const Ctor = pkg[domain]?.v1[SERVICE_NAMES[domain]];
  if (!Ctor) throw new Error(`protos/${domain} declares no ${SERVICE_NAMES[domain]}`);
  const raw = createClient(Ctor, address, { ...options, fullName: serviceName(domain) });
  return asyncClient(raw, Ctor.service as unknown as ServiceByDomain[N]);
}
