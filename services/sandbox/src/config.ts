import { env } from '@callgate/common';
import type { z } from 'zod';

export const sandboxConfigShape = {
  LOG_LEVEL: env.logLevel(),
  BIND_HOST: env.host(),
  SANDBOX_PORT: env.port(8090),
  SHUTDOWN_TIMEOUT_MS: env.milliseconds(5000),
};

export type SandboxConfig = z.infer<z.ZodObject<typeof sandboxConfigShape>>;
