import { connectService, createSqsClient, resolveQueue, type ServiceBase } from '@callgate/common';
import { type Carrier, twilioCarrier } from './carrier.js';
import type { CallConfig } from './config.js';
import type { CreditClient } from './credits.js';
import { PollQueue } from './poll-queue.js';
import type { SheetsClient } from './sheets-mirror.js';

/** What the call service talks to: user-credit and sheets-sync over gRPC, the carrier, the status-poll queue. */
export interface CallBackends {
  credit: CreditClient;
  sheets: SheetsClient;
  carrier: Carrier;
  polls: PollQueue;
  close(): void;
}

export async function connectBackends(config: CallConfig, base: ServiceBase): Promise<CallBackends> {
  const options = { defaultDeadlineMs: config.GRPC_DEADLINE_MS, metrics: base.metrics };
  const credit = connectService('credit', config.CREDIT_SERVICE_ADDR, options);
  const sheets = connectService('sheets', config.SHEETS_SERVICE_ADDR, options);
  const carrier = twilioCarrier({
    accountSid: config.TWILIO_ACCOUNT_SID,
    authToken: config.TWILIO_AUTH_TOKEN,
    apiBaseUrl: config.TWILIO_API_BASE_URL,
    timeoutMs: config.CARRIER_TIMEOUT_MS,
  });
  const sqs = createSqsClient(config);
  const polls = new PollQueue(sqs, await resolveQueue(sqs, config), base.log, base.metrics.registry);
  return {
    credit,
    sheets,
    carrier,
    polls,
    close: () => {
      credit.close();
      sheets.close();
      sqs.destroy();
    },
  };
}
