import { createHash } from 'node:crypto';
import { TERMINAL_STATUSES } from './call-status.js';

/**
 * The events a webhook endpoint can subscribe to: the call was answered, the call ended in each final
 * status (from the status vocabulary, so a final status added to call.proto becomes an event), and a
 * call's recording is ready. The call service emits them; the gateway offers them to MCP clients.
 */
export const WEBHOOK_EVENT_TYPES = [
  'call.answered',
  ...TERMINAL_STATUSES.map((status) => `call.${status}` as const),
  'recording.ready',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const isWebhookEventType = (value: string): value is WebhookEventType =>
  (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);

/**
 * An event's id, derived from the call and the transition (its type): a replay of the same transition has
 * the same id, so receivers deduplicate by it. The same function as calls.emit_webhook_event in SQL
 * (md5 of "<callId>/<type>" written as a UUID).
 */
export function webhookEventId(callId: string, type: WebhookEventType): string {
  const hex = createHash('md5').update(`${callId.toLowerCase()}/${type}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The header a delivery's signature travels in: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const WEBHOOK_SIGNATURE_HEADER = 'Callgate-Signature';
