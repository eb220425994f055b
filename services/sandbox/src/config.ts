import { baseConfigShape, env } from '@callgate/common';
import { z } from 'zod';

/** The sandbox's own account: not a Twilio account, so the default can never reach a real one. */
export const SANDBOX_ACCOUNT_SID = 'AC5a4db0c5000000000000000000000000';
/** The sandbox's own token, published on purpose: it guards nothing but a local stand-in. */
export const SANDBOX_AUTH_TOKEN = 'sandbox-auth-token-not-a-secret';

export const sandboxConfigShape = {
  LOG_LEVEL: baseConfigShape.LOG_LEVEL,
  BIND_HOST: baseConfigShape.BIND_HOST,
  SHUTDOWN_TIMEOUT_MS: baseConfigShape.SHUTDOWN_TIMEOUT_MS,
  SANDBOX_PORT: env.port(8090).describe('HTTP port of the Twilio and Google Sheets stand-ins.'),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'expected AC followed by 32 hexadecimal digits')
    .default(SANDBOX_ACCOUNT_SID)
    .describe(
      'Twilio account SID (API user). In the sandbox: the account it accepts; the default is the sandbox’s own, not a real account.',
    ),
  TWILIO_AUTH_TOKEN: z
    .string()
    .min(1)
    .default(SANDBOX_AUTH_TOKEN)
    .describe(
      'Twilio auth token (API password, webhook signing key). In the sandbox: the token it accepts and signs status callbacks with; the default is public.',
    ),
  SANDBOX_CALL_STEP_MS: env
    .milliseconds(1000)
    .describe('Sandbox carrier: time between call stages (queued, initiated, ringing, answered or a final status).'),
  SANDBOX_SHEETS_QUOTA_PER_MINUTE: z.coerce
    .number()
    .int()
    .positive()
    .default(300)
    .describe(
      'Sandbox Google Sheets: write requests (and, separately, read requests) per minute before it answers 429, as the real per-project quota.',
    ),
  SANDBOX_TALK_MS: env
    .milliseconds(5000)
    .describe(
      'Sandbox carrier: how long an answered call talks before the far end hangs up (TimeLimit may end it sooner).',
    ),
};

export type SandboxConfig = z.infer<z.ZodObject<typeof sandboxConfigShape>>;
