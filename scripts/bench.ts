/**
 * `npm run bench -- NAME [--seconds 10] [--connections 50] [--runs 2]`: benchmarks that print figures.
 * Timing goals live here, never in tests. Servers run in their own processes; only 127.0.0.1 is used.
 */
import { parseArgs } from 'node:util';
import { benchCalls } from './bench/calls.js';
import { benchCredits } from './bench/credits.js';
import { benchGateway } from './bench/gateway.js';
import { benchPoller } from './bench/poller.js';
import { benchRelay } from './bench/relay.js';
import { benchSessions } from './bench/sessions.js';
import { benchSheets } from './bench/sheets.js';
import { benchStart } from './bench/start.js';
import { benchSystem } from './bench/system/index.js';

const BENCHMARKS: Record<string, (o: { seconds: number; connections: number; runs: number }) => Promise<void>> = {
  gateway: benchGateway,
  credits: benchCredits,
  calls: benchCalls,
  poller: benchPoller,
  relay: benchRelay,
  sessions: benchSessions,
  sheets: benchSheets,
  start: benchStart,
  system: benchSystem,
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    runs: { type: 'string', default: '2' },
  },
});
const name = positionals[0];
const run = name ? BENCHMARKS[name] : undefined;
if (!run) {
  process.stderr.write(
    `usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [--seconds N] [--connections N] [--runs N]\n`,
  );
  process.exit(2);
}
await run({ seconds: Number(values.seconds), connections: Number(values.connections), runs: Number(values.runs) });
