/**
 * Which tracer a span comes from. Each service's spans carry its own `service.name` resource, also when
 * all services share one process (`npm start`, the end-to-end tests): one provider per service name,
 * chosen by the service recorded in the active context (set where a service starts work: a gRPC
 * server call, an HTTP request, a queue message). Code shared by every service (database, SQS, gRPC
 * clients) thus names the service it works for without being told.
 *
 * Until `configureTracing` runs, `tracer()` is the API's no-op tracer: spans cost a few object
 * allocations and nothing is recorded or exported.
 */
import { type Context, context, createContextKey, type Tracer, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

const SERVICE = createContextKey('callgate.service');
const TRACER_NAME = 'callgate';

interface Configured {
  processors: SpanProcessor[];
  sampler: Sampler;
  defaultService: string;
  providers: Map<string, NodeTracerProvider>;
}

let configured: Configured | undefined;

export interface TracingSetup {
  /** Where finished spans go: a batch processor with the OTLP exporter in production, an in-memory one in tests. */
  spanProcessors: SpanProcessor[];
  /** Share of traces recorded, 0 to 1 (default 1: every trace). */
  sampleRatio?: number;
  /** The service of spans started outside any service's work (background jobs of a single-service process). */
  defaultService: string;
}

/**
 * Turns tracing on for this process: the AsyncLocalStorage context manager and the W3C trace-context
 * propagator become global (NodeTracerProvider.register does both), and spans are recorded. Once per
 * process; a second call is refused, since the first one's spans would silently go elsewhere.
 */
export function configureTracing(setup: TracingSetup): void {
  if (configured) throw new Error('tracing is already configured in this process');
  const providers = new Map<string, NodeTracerProvider>();
  // Parent-based: a trace is kept or dropped whole, by the service where it starts (the gateway).
  const ratio = setup.sampleRatio ?? 1;
  const sampler = new ParentBasedSampler({
    root: ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio),
  });
  configured = { processors: setup.spanProcessors, sampler, defaultService: setup.defaultService, providers };
  // The default service's provider is the global one, so any library using the OTel API lands there.
  providerFor(setup.defaultService).register();
}

export function tracingEnabled(): boolean {
  return configured !== undefined;
}

function providerFor(service: string): NodeTracerProvider {
  const state = configured as Configured;
  let provider = state.providers.get(service);
  if (!provider) {
    provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
      spanProcessors: state.processors,
      sampler: state.sampler,
    });
    state.providers.set(service, provider);
  }
  return provider;
}

/** The tracer of the service whose work is in progress (see the module comment). */
export function tracer(ctx: Context = context.active()): Tracer {
  if (!configured) return trace.getTracer(TRACER_NAME);
  const service = (ctx.getValue(SERVICE) as string | undefined) ?? configured.defaultService;
  return providerFor(service).getTracer(TRACER_NAME);
}

/** ctx, marked as work of `service`: spans started in it (and in what it starts) belong to that service. */
export function withService(ctx: Context, service: string): Context {
  return ctx.setValue(SERVICE, service);
}

/** Runs fn as work of `service` (e.g. a whole service's start-up, so its timers and servers inherit it). */
export function inService<T>(service: string, fn: () => T): T {
  return context.with(withService(context.active(), service), fn);
}

/** Flushes and stops the processors (at shutdown, so the last spans are exported). */
export async function shutdownTracing(): Promise<void> {
  const state = configured;
  if (!state) return;
  configured = undefined;
  await Promise.allSettled(state.processors.map((p) => p.shutdown()));
}
