import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from '../logger.js';
import type { ServiceMetrics } from '../metrics.js';
import { toGrpcImplementation } from './handlers.js';

export interface GrpcServerOptions {
  /** The service's name in logs and metrics, e.g. "call". */
  name: string;
  log: Logger;
  metrics: ServiceMetrics;
}

export interface RegisteredService {
  /** Fully qualified gRPC service name, e.g. "callgate.call.v1.CallService"; its health status key. */
  fullName: string;
  definition: ServiceDefinition;
  handlers: object;
  /** The proto package definition, so reflection can describe it. */
  packageDefinition: PackageDefinition;
}

/**
 * A gRPC server with the standard health service (grpc.health.v1), reflection, and
 * handlers wrapped for logging, metrics and error mapping. Health starts NOT_SERVING;
 * the service's readiness decides when it is SERVING.
 */
export class GrpcServer {
  readonly server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  readonly health = new HealthImplementation({ '': 'NOT_SERVING' });
  readonly inFlight = { value: 0 };
  private readonly names: string[] = [];
  /** Every added service's proto definitions, described by one reflection service. */
  private readonly definitions: PackageDefinition = {};
  private port = 0;

  constructor(private readonly options: GrpcServerOptions) {
    this.health.addToServer(this.server);
  }

  add(service: RegisteredService): this {
    const implementation = toGrpcImplementation(
      service.definition,
      service.handlers as Record<string, (...args: never[]) => Promise<unknown>>,
      {
        serviceName: this.options.name,
        grpcService: service.fullName,
        log: this.options.log,
        metrics: this.options.metrics,
        inFlight: this.inFlight,
      },
    );
    this.server.addService(service.definition, implementation);
    Object.assign(this.definitions, service.packageDefinition);
    this.health.setStatus(service.fullName, 'NOT_SERVING');
    this.names.push(service.fullName);
    return this;
  }

  /** Binds to host:port (0 picks a free port) and resolves with the bound port. */
  async listen(host: string, port: number): Promise<number> {
    if (this.names.length > 0) new ReflectionService(this.definitions).addToServer(this.server);
    this.port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      );
    });
    return this.port;
  }

  setServing(serving: boolean): void {
    const value: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    for (const name of ['', ...this.names]) this.health.setStatus(name, value);
  }

  /**
   * Stops taking new calls and waits for in-flight ones; after timeoutMs the rest are cancelled.
   * Resolves with how many calls were still running when shutdown began.
   */
  async shutdown(timeoutMs: number): Promise<{ drained: number; forced: boolean }> {
    this.setServing(false);
    const running = this.inFlight.value;
    let forced = false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        forced = true;
        this.server.forceShutdown();
        resolve();
      }, timeoutMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { drained: running, forced };
  }
}
