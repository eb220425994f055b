import { type Client, credentials, makeGenericClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

const HealthClient = makeGenericClientConstructor(
  healthService as unknown as ServiceDefinition,
  'grpc.health.v1.Health',
);

/**
 * Asks a server's grpc.health.v1 service whether `service` ('' for the whole server) is SERVING.
 * Reuses an existing client's channel when given one, so probing costs no new connection.
 */
export function checkServing(target: string | Client, service = '', deadlineMs = 2000): Promise<void> {
  const client =
    typeof target === 'string'
      ? new HealthClient(target, credentials.createInsecure())
      : new HealthClient('unused', credentials.createInsecure(), { channelOverride: target.getChannel() });
  return new Promise<void>((resolve, reject) => {
    (client as unknown as Record<string, (...args: unknown[]) => void>).Check?.(
      { service },
      { deadline: Date.now() + deadlineMs },
      (error: Error | null, response?: { status: string }) => {
        if (typeof target === 'string') client.close();
        if (error) reject(error);
        else if (response?.status !== 'SERVING') reject(new Error(`health status is ${response?.status}`));
        else resolve();
      },
    );
  });
}
