import { WEBHOOK_EVENT_TYPES } from '@callgate/common';
import { z } from 'zod';
import { callId, text } from './schemas.js';

/** Schemas of the webhook tools (webhooks.ts) and the delivery-log resource. */

/** Event names an endpoint may subscribe to (@callgate/common webhook-events.ts, from the status vocabulary). */
export const webhookEvent = z.enum(WEBHOOK_EVENT_TYPES as unknown as [string, ...string[]]);

/** Longest endpoint URL (the call service's MAX_WEBHOOK_URL_LENGTH). */
export const MAX_WEBHOOK_URL = 2048;

/** Webhook ids are UUIDs (the call service's); anything else names nothing. */
export const webhookId = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'a webhookId (a UUID) from createWebhook')
  .describe('The webhookId returned by createWebhook or listWebhooks.')
  .meta({ examples: ['5d41402a-bc4b-4a76-b971-9d911017c592'] });

export const createWebhookInput = z.strictObject({
  url: text(MAX_WEBHOOK_URL)
    .min(1)
    .describe('Your HTTPS endpoint; it must be reachable on the public internet. Deliveries are POSTed here.')
    .meta({ examples: ['https://hooks.example.com/callgate'] }),
  events: z
    .array(webhookEvent)
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length)
    .refine((events) => new Set(events).size === events.length, 'each event once')
    .describe('Which events to deliver.'),
  description: text(200).optional().describe('What this endpoint is for.'),
});

const instant = z.string().describe('RFC 3339, UTC.');

export const webhookView = z.object({
  webhookId: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string(),
  createdAt: instant,
});

export const createdWebhookOutput = z.object({
  webhook: webhookView,
  secret: z
    .string()
    .describe(
      'Signs every delivery (the Callgate-Signature header: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">). Shown only now: keep it secret.',
    ),
});

export const webhooksOutput = z.object({
  webhooks: z.array(webhookView),
  maxWebhooks: z.number().int().describe('How many endpoints you may have.'),
});

export const deletedWebhookOutput = z.object({ webhookId: z.string(), deleted: z.literal(true) });

export const deliveriesInput = z.strictObject({
  webhookId,
  cursor: z.string().max(512).optional().describe('nextCursor of the previous page; absent for the first.'),
});

export const deliveryView = z.object({
  eventId: z.string().describe('The same for every attempt and every replay of one event: deduplicate by it.'),
  eventType: z.string(),
  callId,
  state: z.enum(['pending', 'retrying', 'delivered', 'dead-lettered', 'canceled']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  lastStatusCode: z.number().int().nullable().describe('HTTP status of the last attempt; null when none came.'),
  nextAttemptAt: instant.nullable(),
  createdAt: instant,
  deliveredAt: instant.nullable(),
});

export const deliveriesOutput = z.object({
  deliveries: z.array(deliveryView),
  nextCursor: z.string().nullable(),
});
