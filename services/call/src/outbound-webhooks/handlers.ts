import { type AsyncHandlers, invalidArgument, isWebhookEventType, WEBHOOK_EVENT_TYPES } from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import { newSigningSecret } from './signature.js';
import { checkEndpointUrl, type UrlPolicyOptions } from './url-policy.js';
import type { DeliveryLogRow, EndpointRow, WebhookStore } from './webhook-store.js';

/** Longest description kept. */
export const MAX_WEBHOOK_DESCRIPTION = 200;

export interface WebhookHandlerDeps {
  store: WebhookStore;
  policy: UrlPolicyOptions;
  maxPerUser: number;
}

type WebhookHandlers = Pick<
  AsyncHandlers<callV1.CallServiceHandlers>,
  'CreateWebhook' | 'ListWebhooks' | 'DeleteWebhook' | 'ListWebhookDeliveries'
>;

const iso = (d: Date | null) => (d ? d.toISOString() : '');

const toWebhook = (row: EndpointRow): callV1.Webhook__Output => ({
  webhookId: row.endpoint_id,
  url: row.url,
  events: row.events,
  description: row.description,
  createdAt: row.created_at.toISOString(),
});

const toDelivery = (row: DeliveryLogRow): callV1.WebhookDelivery__Output => ({
  eventId: row.event_id,
  eventType: row.type,
  callId: row.call_id,
  state: row.state,
  attempts: row.attempts,
  lastError: row.last_error,
  lastStatusCode: row.last_status_code,
  nextAttemptAt: iso(row.next_attempt_at),
  createdAt: row.created_at.toISOString(),
  deliveredAt: iso(row.delivered_at),
});

/** The events of a request: known names, each once, at least one. */
function eventsOf(events: string[]): string[] {
  if (events.length === 0) throw invalidArgument('events', `name at least one of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  const unknown = events.filter((e) => !isWebhookEventType(e));
  if (unknown.length) {
    throw invalidArgument(
      'events',
      `unknown event ${JSON.stringify(unknown[0]?.slice(0, 64))}; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
    );
  }
  if (new Set(events).size !== events.length) throw invalidArgument('events', 'name each event once');
  return events;
}

/** gRPC handlers of the webhook RPCs (CallService): thin, they check and delegate to the store. */
export function webhookHandlers(deps: WebhookHandlerDeps): WebhookHandlers {
  const { store } = deps;
  return {
    CreateWebhook: async (request) => {
      const events = eventsOf(request.events);
      if (request.description.length > MAX_WEBHOOK_DESCRIPTION) {
        throw invalidArgument('description', `at most ${MAX_WEBHOOK_DESCRIPTION} characters`);
      }
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters
      if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(request.description)) {
        throw invalidArgument('description', 'must not contain control characters');
      }
      const url = await checkEndpointUrl(request.url, deps.policy);
      const secret = newSigningSecret();
      const row = await store.create(
        request.userId,
        { url, events, description: request.description, secret },
        deps.maxPerUser,
      );
      return { webhook: toWebhook(row), secret };
    },
    ListWebhooks: async (request) => ({
      webhooks: (await store.list(request.userId)).map(toWebhook),
      maxWebhooks: deps.maxPerUser,
    }),
    DeleteWebhook: async (request) => {
      await store.delete(request.userId, request.webhookId);
      return {};
    },
    ListWebhookDeliveries: async (request) => {
      const page = await store.deliveries(request.userId, request.webhookId, request.pageToken, request.pageSize);
      return { deliveries: page.deliveries.map(toDelivery), nextPageToken: page.nextPageToken };
    },
  };
}
