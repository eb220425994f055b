import type { Logger } from '@callgate/common';
import { Counter, type Registry } from 'prom-client';

/**
 * Keeps the gateway process serving through a promise rejection nobody handled. Node's default ends the
 * process, dropping every user's sessions for one bad message; such a rejection is a bug to fix where it
 * happens (transports catch their own), so here it is logged, with its stack, and counted for an alert.
 * Returns the function that removes the handler.
 */
export function guardProcess(
  log: Logger,
  registry: Registry,
  target: Pick<NodeJS.Process, 'on' | 'off'> = process,
): () => void {
  const rejections = new Counter({
    name: 'gateway_unhandled_rejections_total',
    help: 'Promise rejections nobody handled (each one a bug); the gateway logged it and kept serving.',
    registers: [registry],
  });
  const onRejection = (reason: unknown) => {
    rejections.inc();
    log.error({ err: reason, event: 'unhandledRejection' }, 'unhandled promise rejection (a bug); still serving');
  };
  target.on('unhandledRejection', onRejection);
  return () => target.off('unhandledRejection', onRejection);
}
