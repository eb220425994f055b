/**
 * `npm run dlq -- list|redrive|purge`: the call-status queue's dead-letter queue. `list` prints its
 * messages (up to --max, default 100) as JSON lines with their receive counts; `redrive` moves them all
 * back to the main queue; `purge` deletes them. Reads the same SQS_* variables as the services; without
 * SQS_ENDPOINT or SQS_QUEUE_URL, it uses the emulator of the system `npm start` runs (DATA_DIR/local-system.json).
 */
import { parseArgs } from 'node:util';
import { createSqsClient, dlqUrl, loadConfig, resolveQueue, sqsConfigShape } from '@callgate/common';
import { peek, purge, redrive } from '../services/poller/src/dlq.js';
import { localDataDir, readDiscovery } from './local-discovery.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { max: { type: 'string', default: '100' } },
});
const command = positionals[0];
if (command !== 'list' && command !== 'redrive' && command !== 'purge') {
  process.stderr.write('usage: npm run dlq -- list|redrive|purge [--max N]\n');
  process.exit(2);
}
const local =
  process.env.SQS_ENDPOINT || process.env.SQS_QUEUE_URL ? undefined : readDiscovery(localDataDir())?.sqsEndpoint;
const config = loadConfig('dlq', sqsConfigShape, { ...process.env, ...(local ? { SQS_ENDPOINT: local } : {}) });
const sqs = createSqsClient(config);
try {
  const queueUrl = await resolveQueue(sqs, config);
  const dlq = await dlqUrl(sqs, queueUrl, config.SQS_DLQ_NAME);
  if (command === 'list') {
    const messages = await peek(sqs, dlq, Number(values.max));
    for (const m of messages) process.stdout.write(`${JSON.stringify(m)}\n`);
    process.stderr.write(`${messages.length} message(s) in ${dlq}\n`);
  } else if (command === 'redrive') {
    const moved = await redrive(sqs, dlq, queueUrl);
    process.stdout.write(`${JSON.stringify({ redriven: moved, from: dlq, to: queueUrl })}\n`);
  } else {
    await purge(sqs, dlq);
    process.stdout.write(`${JSON.stringify({ purged: dlq })}\n`);
  }
} finally {
  sqs.destroy();
}
