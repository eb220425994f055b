import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { createLogger } from '@callgate/common';
import { Registry } from 'prom-client';
import { guardProcess } from './process-guard.js';

describe('guardProcess', () => {
  it('logs and counts an unhandled rejection instead of letting it end the process, until removed', async () => {
    const registry = new Registry();
    const target = new EventEmitter();
    const lines: string[] = [];
    const log = createLogger('gateway', 'info', { write: (line: string) => lines.push(line) });
    const unguard = guardProcess(log, registry, target as unknown as NodeJS.Process);
    target.emit('unhandledRejection', new RangeError('Maximum call stack size exceeded'));
    const metric = await registry.getSingleMetricAsString('gateway_unhandled_rejections_total');
    assert.match(metric, /gateway_unhandled_rejections_total 1/);
    const entry = JSON.parse(lines[0] ?? '{}');
    assert.equal(entry.event, 'unhandledRejection');
    assert.match(entry.err?.stack ?? '', /RangeError: Maximum call stack size exceeded/);
    unguard();
    assert.equal(target.listenerCount('unhandledRejection'), 0);
  });
});
