import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The label names of go-grpc-prometheus, which Grafana dashboards for gRPC expect. */
type GrpcLabel = 'grpc_service' | 'grpc_method';

/**
 * One registry per service rather than prom-client's global one: `npm start` runs
 * every service in one process, and each must expose only its own series.
 */
export interface ServiceMetrics {
  registry: Registry;
  grpcServerHandled: Counter<GrpcLabel | 'grpc_code'>;
  grpcServerDuration: Histogram<GrpcLabel>;
  grpcClientHandled: Counter<GrpcLabel | 'grpc_code'>;
  grpcClientDuration: Histogram<GrpcLabel>;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(service: string, options: { defaultMetrics?: boolean } = {}): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'callgate', component: service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    grpcServerHandled: new Counter({
      name: 'grpc_server_handled_total',
      help: 'gRPC calls completed by this server, by method and status code.',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      registers: [registry],
    }),
    grpcServerDuration: new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Time from a gRPC call arriving to its status being sent.',
      labelNames: ['grpc_service', 'grpc_method'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    grpcClientHandled: new Counter({
      name: 'grpc_client_handled_total',
      help: 'gRPC calls this service made, by target method and status code.',
      labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
      registers: [registry],
    }),
    grpcClientDuration: new Histogram({
      name: 'grpc_client_handling_seconds',
      help: 'Time this service waited for gRPC calls it made.',
      labelNames: ['grpc_service', 'grpc_method'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}
