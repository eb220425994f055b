/**
 * `npm run credits -- <command>`: the operator's tool for the credit ledger.
 *   grant --user U --amount N --reason "why" [--key K] [--actor A]   adds credits (idempotent by key)
 *   balance --user U                                                  prints the user's balance
 *   check [--user U] [--repair]                                       compares balances with the ledger
 * grant and balance talk gRPC to user-credit (CREDIT_SERVICE_ADDR; unset: the one `npm start` runs, found
 * through DATA_DIR/local-system.json, else 127.0.0.1:50052); check reads PostgreSQL (DATABASE_URL)
 * directly, since it must work when the service is the thing in doubt.
 */
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { connectService, createLogger, isGrpcError, PostgresDatabase } from '@callgate/common';
import { checkLedger, rebuildBalances } from '@callgate/user-credit';
import { localDataDir, readDiscovery } from './local-discovery.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    user: { type: 'string' },
    amount: { type: 'string' },
    reason: { type: 'string' },
    key: { type: 'string' },
    actor: { type: 'string' },
    repair: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function creditClient() {
  const address =
    process.env.CREDIT_SERVICE_ADDR ?? readDiscovery(localDataDir())?.grpc['user-credit'] ?? '127.0.0.1:50052';
  return connectService('credit', address, { defaultDeadlineMs: 10_000 });
}

async function main(): Promise<void> {
  const command = positionals[0];
  if (command === 'grant') {
    const amount = Number(values.amount);
    if (!values.user || !Number.isSafeInteger(amount) || amount <= 0 || !values.reason) {
      fail('usage: npm run credits -- grant --user U --amount N --reason "why" [--key K] [--actor A]');
    }
    const key = values.key ?? randomUUID();
    const client = creditClient();
    const result = await client.grant({
      userId: values.user,
      amount,
      idempotencyKey: key,
      reason: values.reason,
      actor: values.actor ?? `cli:${userInfo().username}`,
    });
    client.close();
    process.stdout.write(`${JSON.stringify({ idempotencyKey: key, ...result }, null, 2)}\n`);
  } else if (command === 'balance') {
    if (!values.user) fail('usage: npm run credits -- balance --user U');
    const client = creditClient();
    const { balance } = await client.getBalance({ userId: values.user });
    client.close();
    process.stdout.write(`${JSON.stringify(balance, null, 2)}\n`);
  } else if (command === 'check') {
    if (!process.env.DATABASE_URL) {
      fail(
        'check reads PostgreSQL directly: set DATABASE_URL (the embedded database of npm start cannot be read from another process)',
      );
    }
    const db = new PostgresDatabase({ url: process.env.DATABASE_URL, log: createLogger('credits', 'warn') });
    try {
      const problems = await checkLedger(db, values.user);
      process.stdout.write(`${JSON.stringify({ consistent: problems.length === 0, problems }, null, 2)}\n`);
      if (problems.length && values.repair) {
        const fixed = await rebuildBalances(db, new Date());
        process.stdout.write(`rebuilt ${fixed} balance(s) from the ledger\n`);
      } else if (problems.length) {
        process.exitCode = 1;
      }
    } finally {
      await db.close();
    }
  } else {
    fail('usage: npm run credits -- grant|balance|check (see the comment at the top of scripts/credits.ts)');
  }
}

main().catch((error: unknown) => {
  fail(isGrpcError(error) ? `user-credit answered ${error.code}: ${error.details}` : String(error));
});
