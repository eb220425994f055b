import { Counter, type Registry } from 'prom-client';
import { type Clock, systemClock } from './clock.js';
import type { Logger } from './logger.js';

export interface PeriodicOptions<T> {
  /** Names the job in its log lines and in periodic_job_failures_total{job}. */
  name: string;
  /** One run. The signal aborts when the job is stopped: a long run should end early at a safe point. */
  run: (signal: AbortSignal) => Promise<T>;
  /** Pause between the end of one run and the start of the next: runs never overlap, however slow. */
  intervalMs: number;
  /** Pause before the first run. Default: intervalMs (0 runs at once). */
  firstDelayMs?: number;
  /**
   * Spread, as a fraction of the pause, added at random to each pause (0.1: up to 10 % longer), so that
   * replicas started together do not hit the database or queue in step. Default 0.
   */
  jitter?: number;
  log: Logger;
  /** Where periodic_job_failures_total goes (the service's registry). Default: not exported. */
  registry?: Registry;
  /** Level of the line a failed run logs. Default warn. */
  failureLevel?: 'warn' | 'error';
  /** Timers. Default systemClock. */
  clock?: Clock;
  /** Source of the jitter, in [0, 1). Default Math.random. */
  random?: () => number;
}

export interface Periodic<T> {
  /** Runs now, or joins the run in progress. Resolves to its result, or undefined when it failed (logged). */
  runOnce(): Promise<T | undefined>;
  /** No further runs; aborts the current run's signal and waits for it to end. */
  stop(): Promise<void>;
}

const FAILURES = 'periodic_job_failures_total';

/** The failure counter of a registry, shared by every periodic job of the service. */
function failureCounter(registry: Registry | undefined): Counter<'job'> {
  const existing = registry?.getSingleMetric(FAILURES);
  if (existing) return existing as Counter<'job'>;
  return new Counter({
    name: FAILURES,
    help: 'Runs of a background job (sweeps, monitors, samplers) that failed, by job; the next interval retries.',
    labelNames: ['job'],
    registers: registry ? [registry] : [],
  });
}

/**
 * A background job run every interval, one run at a time: the next run is scheduled when the current one
 * ends, a failed run is logged and counted and retried at the next interval, and stop() ends it cleanly
 * at shutdown (no timer left, the current run finished). The one definition of "a periodic job".
 */
export function periodic<T>(options: PeriodicOptions<T>): Periodic<T> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const failures = failureCounter(options.registry);
  const controller = new AbortController();
  let running: Promise<T | undefined> | undefined;
  let cancelTimer: (() => void) | undefined;

  const runOnce = (): Promise<T | undefined> => {
    running ??= (async () => {
      try {
        return await options.run(controller.signal);
      } catch (error) {
        failures.inc({ job: options.name });
        options.log[options.failureLevel ?? 'warn'](
          { err: error, job: options.name },
          `${options.name} failed; the next run retries`,
        );
        return undefined;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const schedule = (pauseMs: number) => {
    if (controller.signal.aborted) return;
    const spread = pauseMs * Math.max(0, options.jitter ?? 0) * random();
    cancelTimer = clock.after(pauseMs + spread, () => {
      cancelTimer = undefined;
      void runOnce().then(() => schedule(options.intervalMs));
    });
  };
  schedule(options.firstDelayMs ?? options.intervalMs);

  return {
    runOnce,
    stop: async () => {
      controller.abort();
      cancelTimer?.();
      await running;
    },
  };
}
