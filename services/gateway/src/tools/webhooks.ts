import type { callV1 } from '@callgate/protos';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import { grpcTool } from './result.js';
import { needs, SCOPES } from './scopes.js';
import {
  createdWebhookOutput,
  createWebhookInput,
  deletedWebhookOutput,
  deliveriesInput,
  deliveriesOutput,
  webhookId,
  webhooksOutput,
} from './webhook-schemas.js';

const orNull = (value: string) => value || null;

/** A delivery-log entry as MCP clients read it (empty strings and zeroes of proto3 become null). */
export const deliveryView = (d: callV1.WebhookDelivery__Output) => ({
  eventId: d.eventId,
  eventType: d.eventType,
  callId: d.callId,
  state: d.state,
  attempts: d.attempts,
  lastError: orNull(d.lastError),
  lastStatusCode: d.lastStatusCode || null,
  nextAttemptAt: orNull(d.nextAttemptAt),
  createdAt: d.createdAt,
  deliveredAt: orNull(d.deliveredAt),
});

/**
 * Webhook endpoints: where the call service POSTs your call events (signed, at least once). Scopes:
 * registering or deleting one needs calls:write, because an endpoint is a standing feed of your calls
 * (transcripts included) that outlives the token that made it, which a read-only token must not be able
 * to set up; listing them and reading their delivery logs needs calls:read, like reading the calls.
 * Another user's webhookId is "not found", exactly as an unknown one.
 */
export function registerWebhookTools(server: McpServer, backends: Backends): void {
  server.registerTool(
    'createWebhook',
    {
      title: 'Create a webhook',
      description:
        'Registers an HTTPS endpoint that receives your call events (call.answered, call.completed and the other ' +
        'final statuses, recording.ready) as signed JSON POSTs, retried with backoff for 24 h. The signing ' +
        'secret is in the result only this once.',
      inputSchema: createWebhookInput,
      outputSchema: createdWebhookOutput,
      scopeChallenge: needs(SCOPES.callsWrite),
      annotations: { destructiveHint: false, idempotentHint: false, openWorldHint: true, readOnlyHint: false },
    },
    grpcTool(
      async (args, call) => {
        const r = await backends.call.createWebhook(
          { userId: call.userId, url: args.url, events: args.events, description: args.description ?? '' },
          { signal: call.signal },
        );
        return { webhook: r.webhook, secret: r.secret };
      },
      { users: backends.users },
    ),
  );

  server.registerTool(
    'listWebhooks',
    {
      title: 'Webhooks',
      description: 'Your webhook endpoints and the events each receives (never their secrets).',
      inputSchema: z.strictObject({}),
      outputSchema: webhooksOutput,
      scopeChallenge: needs(SCOPES.callsRead),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(
      async (_args, call) => {
        const r = await backends.call.listWebhooks({ userId: call.userId }, { signal: call.signal });
        return { webhooks: r.webhooks, maxWebhooks: r.maxWebhooks };
      },
      { users: backends.users },
    ),
  );

  server.registerTool(
    'deleteWebhook',
    {
      title: 'Delete a webhook',
      description: 'Stops deliveries to an endpoint; deliveries not yet made are canceled. Its log stays readable.',
      inputSchema: z.strictObject({ webhookId }),
      outputSchema: deletedWebhookOutput,
      scopeChallenge: needs(SCOPES.callsWrite),
      annotations: { destructiveHint: true, idempotentHint: false, openWorldHint: false, readOnlyHint: false },
    },
    grpcTool(
      async (args, call) => {
        await backends.call.deleteWebhook({ userId: call.userId, webhookId: args.webhookId }, { signal: call.signal });
        return { webhookId: args.webhookId, deleted: true as const };
      },
      { users: backends.users },
    ),
  );

  server.registerTool(
    'getWebhookDeliveries',
    {
      title: 'Webhook delivery log',
      description:
        "An endpoint's deliveries, newest first: each event's id and type, state (pending, retrying, delivered, " +
        'dead-lettered, canceled), attempts, last error and next attempt. Pass nextCursor back as cursor for more.',
      inputSchema: deliveriesInput,
      outputSchema: deliveriesOutput,
      scopeChallenge: needs(SCOPES.callsRead),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(
      async (args, call) => {
        const r = await backends.call.listWebhookDeliveries(
          { userId: call.userId, webhookId: args.webhookId, pageToken: args.cursor ?? '', pageSize: 20 },
          { signal: call.signal },
        );
        return { deliveries: r.deliveries.map(deliveryView), nextCursor: r.nextPageToken || null };
      },
      { users: backends.users },
    ),
  );
}
