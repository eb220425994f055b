import type { Logger } from './logger.js';

/**
 * On SIGTERM or SIGINT: run stop (stop accepting, drain in-flight work, close pools), then exit 0.
 * If stop takes longer than timeoutMs, exit 1 so the orchestrator is not kept waiting.
 */
export function exitOnSignal(stop: () => Promise<void>, options: { log: Logger; timeoutMs: number }): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    options.log.info({ signal }, 'shutting down: draining in-flight work');
    const timer = setTimeout(() => {
      options.log.error({ timeoutMs: options.timeoutMs }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, options.timeoutMs);
    timer.unref();
    stop().then(
      () => {
        options.log.info('stopped cleanly');
        options.log.flush?.();
        process.exit(0);
      },
      (error: unknown) => {
        options.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
