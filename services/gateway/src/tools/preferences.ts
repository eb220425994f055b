import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import { preferencesOutput } from './account-schemas.js';
import { grpcTool } from './result.js';
import { e164, language } from './schemas.js';
import { needs, SCOPES } from './scopes.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');

export function registerPreferenceTools(server: McpServer, backends: Backends): void {
  server.registerTool(
    'updateCallPreferences',
    {
      title: 'Update call preferences',
      description: 'Changes the defaults for your calls. Only the fields you pass change; the result is the full set.',
      inputSchema: z.object({
        defaultVoice: z.string().max(64).optional(),
        defaultModel: z.string().max(64).optional(),
        language: language.optional(),
        callerId: e164.optional(),
        maxCallDurationSeconds: z.number().int().min(30).max(3600).optional(),
        recordingEnabled: z.boolean().optional(),
        timezone: z.string().max(64).optional().describe('IANA zone, e.g. "Europe/Berlin".'),
        quietHours: z.object({ start: hhmm, end: hhmm }).optional(),
        maxConcurrentCalls: z.number().int().min(1).max(100).optional(),
      }),
      outputSchema: preferencesOutput,
      scopeChallenge: needs(SCOPES.profileWrite),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(
      async (args, call) => {
        const r = await backends.credit.updatePreferences(
          {
            userId: call.userId,
            patch: {
              defaultVoice: args.defaultVoice,
              defaultModel: args.defaultModel,
              language: args.language,
              callerId: args.callerId,
              maxCallDurationSeconds: args.maxCallDurationSeconds,
              recordingEnabled: args.recordingEnabled,
              timezone: args.timezone,
              quietHours: args.quietHours ?? null,
              maxConcurrentCalls: args.maxConcurrentCalls,
            },
          },
          { signal: call.signal },
        );
        return { preferences: r.preferences };
      },
      { users: backends.users },
    ),
  );
}
