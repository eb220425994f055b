import {
  baseConfigShape,
  callerIdsConfigShape,
  catalogConfigShape,
  databaseConfigShape,
  env,
  sqsConfigShape,
} from '@callgate/common';
import { z } from 'zod';
import {
  DEFAULT_DENIED_DESTINATIONS,
  NO_DENIED_DESTINATIONS,
  parseCountryList,
  parseDenyList,
} from './destination-rules.js';
import { webhookConfigShape } from './outbound-webhooks/config.js';
import { recordingConfigShape } from './recordings/config.js';

/** A comma-separated list of destinations read by `parse`; what it cannot read stops the start, named. */
const destinationList = (fallback: string, parse: (value: string) => string[]) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return parse(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });

export const callConfigShape = {
  ...baseConfigShape,
  ...databaseConfigShape,
  ...catalogConfigShape,
  ...callerIdsConfigShape,
  ...sqsConfigShape,
  ...recordingConfigShape,
  ...webhookConfigShape,
  GRPC_PORT: env.grpcPort(50051),
  METRICS_PORT: env.metricsPort(9102),
  WEBHOOK_PORT: env
    .port(8081)
    .describe(
      'Public HTTP port for Twilio: status callbacks (POST /twilio/status), the voice URL (POST /twilio/voice) and the ConversationRelay WebSocket (/twilio/relay).',
    ),
  PUBLIC_BASE_URL: env
    .url()
    .optional()
    .describe(
      'The URL Twilio reaches the webhook port at (behind a proxy or load balancer); signatures are checked against it. Unset: http://BIND_HOST:WEBHOOK_PORT.',
    ),
  ALLOWED_DESTINATION_COUNTRIES: destinationList('', parseCountryList).describe(
    'Countries calls may go to, as comma-separated ISO 3166-1 alpha-2 codes (e.g. US,CA,GB); empty: any country. A user profile can narrow it further.',
  ),
  DENIED_DESTINATION_COUNTRIES: destinationList(DEFAULT_DENIED_DESTINATIONS.join(','), parseDenyList).describe(
    `Countries (ISO 3166-1 alpha-2) and number ranges (e.g. +1876) calls never go to, checked before ALLOWED_DESTINATION_COUNTRIES; the default lists destinations at high risk of international revenue share fraud (README, Destination rules). ${NO_DENIED_DESTINATIONS}: no deny list.`,
  ),
  CREDIT_SERVICE_ADDR: env.grpcAddress('127.0.0.1:50052', 'user-credit'),
  SHEETS_SERVICE_ADDR: env.grpcAddress('127.0.0.1:50053', 'sheets-sync'),
  GRPC_DEADLINE_MS: env.milliseconds(5000).describe('Deadline of each gRPC call to user-credit and sheets-sync.'),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'AC followed by 32 hex digits')
    .describe('Twilio account SID (in local runs: the sandbox account).'),
  TWILIO_AUTH_TOKEN: z
    .string()
    .min(1)
    .describe('Twilio auth token: authenticates API requests and signs status callbacks. Secret.'),
  TWILIO_API_BASE_URL: env
    .url()
    .optional()
    .describe('Send Twilio API requests here instead of https://api.twilio.com (the sandbox, Prism).'),
  CARRIER_TIMEOUT_MS: env.milliseconds(15_000).describe('Timeout of each Twilio API request.'),
  RECOVERY_INTERVAL_MS: env
    .milliseconds(15_000)
    .describe('How often unfinished dials and unsettled calls are looked at (also once at start-up).'),
  DIAL_GRACE_MS: env
    .milliseconds(10_000)
    .describe('Age after which a recorded intent nobody is dialling is dialled by the recovery job.'),
  DIAL_MAX_AGE_MS: env
    .milliseconds(300_000)
    .describe('A recorded call not dialled within this (the service was down) fails instead of ringing late.'),
  DIAL_UNKNOWN_TIMEOUT_MS: env
    .milliseconds(120_000)
    .describe(
      'How long a dial with no answer from the carrier waits for a status callback before it counts as failed.',
    ),
  POLL_FIRST_DELAY_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(900)
    .default(60)
    .describe('Delay of the first status poll after a call is placed (the safety net for lost callbacks).'),
  LLM_BASE_URL: env
    .url()
    .optional()
    .describe(
      'OpenAI-compatible API root for the voice agent (e.g. https://api.openai.com/v1). Unset: the built-in deterministic agent talks (no LLM).',
    ),
  LLM_API_KEY: z.string().optional().describe('Bearer key of LLM_BASE_URL. Secret.'),
  LLM_MODEL_MAP: z
    .string()
    .regex(/^([^=,\s]+=[^=,\s]+)(,[^=,\s]+=[^=,\s]+)*$/, 'comma-separated catalogue-id=server-model pairs')
    .optional()
    .describe(
      'Model names on the LLM server for catalogue model ids, e.g. callgate-standard=gpt-4o-mini,callgate-advanced=gpt-4o. Unmapped ids are sent as they are.',
    ),
  LLM_TIMEOUT_MS: env
    .milliseconds(20_000)
    .describe('Timeout of each LLM request; a reply that takes longer ends the call politely.'),
  RELAY_MAX_TURNS: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .default(30)
    .describe('Most replies the voice agent makes in one call; then it says goodbye and ends the call.'),
  RELAY_END_MARGIN_MS: env
    .milliseconds(5000)
    .describe(
      "The agent says goodbye and ends the conversation this long before the call's max duration (when Twilio's TimeLimit cuts it).",
    ),
  RELAY_TRANSCRIPTION_PROVIDER: z
    .enum(['Deepgram', 'Google'])
    .default('Deepgram')
    .describe("ConversationRelay's speech-to-text provider (its transcriptionProvider attribute)."),
};

/** LLM_MODEL_MAP as a record. */
export function modelMap(value: string | undefined): Record<string, string> {
  return Object.fromEntries(
    (value ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
}

export type CallConfig = z.infer<z.ZodObject<typeof callConfigShape>>;
