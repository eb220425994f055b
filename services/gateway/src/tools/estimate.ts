import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import { grpcTool } from './result.js';
import { text } from './schemas.js';
import { needs, SCOPES } from './scopes.js';

export const estimateOutput = z.object({
  model: z.string(),
  maxDurationSeconds: z.number().int(),
  creditsPerMinute: z.number().int(),
  holdCredits: z.number().int().describe('What makePhoneCall would hold: the whole time limit on the model.'),
  availableCredits: z.number().int(),
  enough: z.boolean().describe('Whether your available credits cover the hold.'),
});

/** estimateCallCost: the hold makePhoneCall would take, sized by the call service's own function. */
export function registerEstimateTool(server: McpServer, backends: Backends): void {
  server.registerTool(
    'estimateCallCost',
    {
      title: 'Estimate a call’s hold',
      description:
        'The credits makePhoneCall would hold for a call on this model and time limit (your preferences fill what ' +
        'you leave out), and whether your available credits cover it. Places nothing, holds nothing.',
      inputSchema: z.strictObject({
        model: text(64).min(1).optional().describe('A model id from getModelOptions; default from preferences.'),
        maxDurationSeconds: z.number().int().min(30).max(3600).optional().describe('Default from preferences.'),
      }),
      outputSchema: estimateOutput,
      scopeChallenge: needs(SCOPES.callsRead),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(
      async (args, call) => {
        const r = await backends.call.estimateCall(
          { userId: call.userId, model: args.model ?? '', maxDurationSeconds: args.maxDurationSeconds ?? 0 },
          { signal: call.signal },
        );
        return {
          model: r.model,
          maxDurationSeconds: r.maxDurationSeconds,
          creditsPerMinute: r.creditsPerMinute,
          holdCredits: Number(r.holdCredits),
          availableCredits: Number(r.availableCredits),
          enough: r.enough,
        };
      },
      { users: backends.users },
    ),
  );
}
