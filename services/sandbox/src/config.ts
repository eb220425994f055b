import { baseConfigShape, env } from '@callgate/common';
import type { z } from 'zod';

export const sandboxConfigShape = {
  LOG_LEVEL: baseConfigShape.LOG_LEVEL,
  BIND_HOST: baseConfigShape.BIND_HOST,
  SHUTDOWN_TIMEOUT_MS: baseConfigShape.SHUTDOWN_TIMEOUT_MS,
  SANDBOX_PORT: env.port(8090).describe('HTTP port of the Twilio and Google Sheets stand-ins.'),
};

export type SandboxConfig = z.infer<z.ZodObject<typeof sandboxConfigShape>>;
