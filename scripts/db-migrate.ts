/**
 * `npm run db-migrate -- <command> --source URL --target URL [options]`: moves callgate's data between two
 * PostgreSQL databases (Supabase → RDS), one service schema at a time. The README's "Database migration"
 * section is the runbook.
 *   snapshot   apply the services' migrations on the target, then copy every table from one consistent
 *              source snapshot. Refuses a target that already holds rows unless --resume.
 *   catch-up   copy what changed on the source since the last snapshot or catch-up (repeat during the sync
 *              period; once more after the write freeze).
 *   verify     compare row counts and checksums per table; exit 1 when anything differs.
 * Options: --schemas credits,calls,sheets,poller (default all)  --batch-size N (default 1000)  --resume
 * Exit codes: 0 done / equal, 1 verify found differences, 2 usage or connection error, or a refused step.
 */
import { parseArgs } from 'node:util';
import { type CommandOptions, runCatchUp, runSnapshot, runVerify } from './db-migrate/commands.js';
import { isMigrateError } from './db-migrate/connect.js';

const USAGE =
  'usage: npm run db-migrate -- snapshot|catch-up|verify --source postgres://… --target postgres://… ' +
  '[--schemas credits,calls,sheets,poller] [--batch-size 1000] [--resume]';

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      source: { type: 'string' },
      target: { type: 'string' },
      schemas: { type: 'string' },
      'batch-size': { type: 'string' },
      resume: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command || positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const batchSize = Number(values['batch-size'] ?? 1000);
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    process.stderr.write('--batch-size must be an integer from 1 to 100000\n');
    return 2;
  }
  const options: CommandOptions = {
    source: values.source ?? '',
    target: values.target ?? '',
    schemas: values.schemas,
    batchSize,
    resume: values.resume,
    onTable: (report) => process.stderr.write(`${JSON.stringify(report)}\n`),
  };
  if (command === 'snapshot') {
    print(await runSnapshot(options));
    return 0;
  }
  if (command === 'catch-up') {
    print(await runCatchUp(options));
    return 0;
  }
  if (command === 'verify') {
    const summary = await runVerify(options);
    print(summary);
    if (!summary.equal) process.stderr.write(`DIFFERENT:\n  ${summary.differences.join('\n  ')}\n`);
    return summary.equal ? 0 : 1;
  }
  process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
  return 2;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Refusals and connection problems are the operator's to fix: their message, no stack.
    process.stderr.write(
      isMigrateError(error)
        ? `db-migrate: ${error.message}\n`
        : `db-migrate failed: ${(error as Error).stack ?? String(error)}\n`,
    );
    process.exitCode = 2;
  },
);
