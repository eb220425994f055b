import { createServer } from 'node:http';
import { closeHttp, createLogger, listenHttp, type ServiceHandle } from '@callgate/common';
import { handleSandboxRequest } from './app.js';
import type { SandboxConfig } from './config.js';

export { type SandboxConfig, sandboxConfigShape } from './config.js';

/** Starts the sandbox HTTP server (Twilio and Google Sheets stand-ins). */
export async function startSandbox(config: SandboxConfig): Promise<ServiceHandle> {
  const log = createLogger('sandbox', config.LOG_LEVEL);
  const server = createServer(handleSandboxRequest);
  const port = await listenHttp(server, config.BIND_HOST, config.SANDBOX_PORT);
  log.info({ port }, 'sandbox started');
  return {
    name: 'sandbox',
    grpcPort: 0,
    opsPort: port,
    endpoints: { twilio: `http://${config.BIND_HOST}:${port}`, sheets: `http://${config.BIND_HOST}:${port}` },
    stop: () => closeHttp(server),
  };
}
