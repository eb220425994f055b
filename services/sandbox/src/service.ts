import { createServer } from 'node:http';
import { closeHttp, createLogger, listenHttp, type ServiceHandle } from '@callgate/common';
import { createSandboxApp } from './app.js';
import type { SandboxConfig } from './config.js';
import { MailCatcher } from './mail/mail-catcher.js';
import { SheetsSandbox } from './sheets/sheets-api.js';
import { CallsApi } from './twilio/calls.js';
import { CallLifecycle } from './twilio/lifecycle.js';
import { PersonaRelay } from './twilio/persona-relay.js';
import { SandboxRecordings } from './twilio/recordings.js';
import { StatusCallbacks } from './twilio/status-callbacks.js';

export { SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, type SandboxConfig, sandboxConfigShape } from './config.js';
export type { CaughtMail } from './mail/mail-catcher.js';
export type { SheetsFault, SheetsSandboxStats } from './sheets/sheets-api.js';
export {
  OUTCOME_BY_LAST_FOUR,
  type Outcome,
  PERSONA_BY_LAST_FOUR,
  PERSONA_DESCRIPTIONS,
  type PersonaName,
  SANDBOX_NUMBERS,
  SANDBOX_PERSONAS,
} from './twilio/outcomes.js';

/** Starts the sandbox HTTP server (Twilio carrier and Google Sheets stand-ins). */
export async function startSandbox(config: SandboxConfig): Promise<ServiceHandle> {
  const log = createLogger('sandbox', config.LOG_LEVEL);
  const callbacks = new StatusCallbacks({ authToken: config.TWILIO_AUTH_TOKEN, log });
  const recordings = new SandboxRecordings({ authToken: config.TWILIO_AUTH_TOKEN, log });
  // Persona numbers talk with the call's ConversationRelay; the relay ends the call when either side ends.
  const relay = new PersonaRelay({
    authToken: config.TWILIO_AUTH_TOKEN,
    log,
    hangUp: (sid) => lifecycle.hangUp(sid),
  });
  const lifecycle: CallLifecycle = new CallLifecycle({
    stepMs: config.SANDBOX_CALL_STEP_MS,
    talkMs: config.SANDBOX_TALK_MS,
    onProgress: (call, progress) => {
      callbacks.onProgress(call, progress);
      relay.onProgress(call, progress);
      recordings.onProgress(call, progress);
    },
  });
  const app = createSandboxApp({
    credentials: { accountSid: config.TWILIO_ACCOUNT_SID, authToken: config.TWILIO_AUTH_TOKEN },
    calls: new CallsApi(lifecycle),
    log,
    sheets: new SheetsSandbox({ quotaPerMinute: config.SANDBOX_SHEETS_QUOTA_PER_MINUTE, log }),
    mail: new MailCatcher(),
    recordings,
  });
  const server = createServer(app);
  const port = await listenHttp(server, config.BIND_HOST, config.SANDBOX_PORT);
  log.info({ port, accountSid: config.TWILIO_ACCOUNT_SID }, 'sandbox started');
  let stopping: Promise<void> | undefined;
  return {
    name: 'sandbox',
    grpcPort: 0,
    opsPort: port,
    endpoints: {
      twilio: `http://${config.BIND_HOST}:${port}`,
      sheets: `http://${config.BIND_HOST}:${port}`,
      ses: `http://${config.BIND_HOST}:${port}`,
      mail: `http://${config.BIND_HOST}:${port}/mail`,
    },
    stop: () => {
      stopping ??= (async () => {
        // Calls stop first so that no new callback is produced while those in flight are aborted.
        lifecycle.stop();
        relay.stop();
        await callbacks.stop();
        await recordings.stop();
        await closeHttp(server);
      })();
      return stopping;
    },
  };
}
