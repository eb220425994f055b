import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import type { Backends } from '../backends.js';
import { resourceErrorFrom } from '../grpc-errors.js';
import { needs, SCOPES } from '../tools/scopes.js';
import { deliveryView } from '../tools/webhooks.js';

export const WEBHOOK_URIS = { deliveries: 'callgate://webhooks/{webhookId}/deliveries' } as const;

/** An endpoint's delivery log as a resource (the newest 50); only its owner reads it. */
export function registerWebhookResources(server: McpServer, backends: Backends): void {
  server.registerResource(
    'webhook-deliveries',
    new ResourceTemplate(WEBHOOK_URIS.deliveries, { list: undefined }),
    {
      title: 'Webhook delivery log',
      description: "One of your webhook endpoints' newest 50 deliveries; getWebhookDeliveries pages further.",
      mimeType: 'application/json',
      scopeChallenge: needs(SCOPES.callsRead),
    },
    async (uri, variables, ctx) => {
      try {
        const userId = await backends.users.ensure(ctx.http?.authInfo);
        const id = Array.isArray(variables.webhookId) ? (variables.webhookId[0] ?? '') : (variables.webhookId ?? '');
        const r = await backends.call.listWebhookDeliveries(
          { userId, webhookId: id, pageToken: '', pageSize: 50 },
          { signal: ctx.mcpReq.signal },
        );
        const body = { deliveries: r.deliveries.map(deliveryView), nextCursor: r.nextPageToken || null };
        return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body) }] };
      } catch (error) {
        resourceErrorFrom(error, uri.href);
      }
    },
  );
}
