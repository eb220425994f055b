import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import { preferencesOutput } from './account-schemas.js';
import { preferencesView } from './account-view.js';
import { grpcTool } from './result.js';
import { e164, language, text } from './schemas.js';
import { needs, SCOPES } from './scopes.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');

/** user-credit's patch clears quiet hours when both ends are empty. */
const NO_QUIET_HOURS = { start: '', end: '' };

export function registerPreferenceTools(server: McpServer, backends: Backends): void {
  server.registerTool(
    'updateCallPreferences',
    {
      title: 'Update call preferences',
      description: 'Changes the defaults for your calls. Only the fields you pass change; the result is the full set.',
      // Strict: a setting the gateway does not offer (a misspelt one) is refused, not ignored.
      inputSchema: z.strictObject({
        defaultVoice: text(64).optional(),
        defaultModel: text(64).optional(),
        language: language.optional(),
        callerId: e164.optional(),
        maxCallDurationSeconds: z.number().int().min(30).max(3600).optional(),
        timezone: text(64).optional().describe('IANA zone, e.g. "Europe/Berlin".'),
        quietHours: z
          .strictObject({ start: hhmm, end: hhmm })
          .nullable()
          .optional()
          .describe(
            'When calls are refused, in your timezone (start and end differ). null clears them; absent keeps them.',
          ),
        maxConcurrentCalls: z.number().int().min(1).max(100).optional(),
        recordingEnabled: z
          .boolean()
          .optional()
          .describe('Record your calls by default (the callee is told); makePhoneCall’s record overrides it.'),
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
              timezone: args.timezone,
              // Absent: the patch leaves quiet hours as they are; null: the patch clears them.
              quietHours: args.quietHours === null ? NO_QUIET_HOURS : (args.quietHours ?? null),
              maxConcurrentCalls: args.maxConcurrentCalls,
              recordingEnabled: args.recordingEnabled,
            },
          },
          { signal: call.signal },
        );
        return { preferences: r.preferences ? preferencesView(r.preferences) : null };
      },
      { users: backends.users },
    ),
  );
}
