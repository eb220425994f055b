import type { CallStatus } from '@callgate/common';
import { Counter, type Registry } from 'prom-client';

/**
 * call_status_transitions_total{status}: calls entering each status (queued when recorded, then each move
 * the state machine accepts). Counted after the commit, so a rolled-back move is not counted, and
 * duplicates the state machine ignores never are: rates of the terminal statuses are the calls' outcomes.
 */
export function statusTransitions(registry: Registry): (status: CallStatus) => void {
  const transitions = new Counter({
    name: 'call_status_transitions_total',
    help: 'Calls entering each status (queued when recorded, then each accepted state-machine move).',
    labelNames: ['status'],
    registers: [registry],
  });
  return (status) => transitions.inc({ status });
}
