import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import { callSchema } from './call-schemas.js';
import { callViewOrNull } from './call-view.js';
import { grpcTool } from './result.js';
import { callId } from './schemas.js';
import { needs, SCOPES } from './scopes.js';

/** What deleteCallData can delete of a call. */
export const CALL_DATA = ['recording', 'transcript'] as const;

export const deleteCallDataOutput = z.object({
  call: callSchema,
  recordingDeleted: z.boolean().describe('A recording was there and is gone (S3 object and carrier copy).'),
  transcriptDeleted: z.boolean().describe('A transcript was there and is gone (turns, outcome summary and fields).'),
});

/**
 * deleteCallData: one destructive tool for a call's personal data rather than one per kind, so an agent
 * honouring "delete what you recorded of me" does it in one idempotent step, with one scope and one
 * confirmation; `what` names the parts (the recording, the transcript, or both).
 */
export function registerRecordingTools(server: McpServer, backends: Backends): void {
  server.registerTool(
    'deleteCallData',
    {
      title: "Delete a call's recording or transcript",
      description:
        "Deletes one of your calls' recording (the audio, wherever it is stored) and/or its transcript (what was said, " +
        "the outcome's summary and learned fields; the call's sheet row loses its summary). The call itself, its status " +
        'and its cost stay. Deleting what is already gone is not an error. A transcript can be deleted once the call has ended.',
      inputSchema: z.strictObject({
        callId,
        what: z
          .array(z.enum(CALL_DATA))
          .min(1)
          .max(CALL_DATA.length)
          .refine((parts) => new Set(parts).size === parts.length, 'name each part once')
          .describe('What to delete: "recording", "transcript", or both.'),
      }),
      outputSchema: deleteCallDataOutput,
      scopeChallenge: needs(SCOPES.callsWrite),
      annotations: { destructiveHint: true, idempotentHint: true, readOnlyHint: false, openWorldHint: false },
    },
    grpcTool(
      async (args, call) => {
        const r = await backends.call.deleteCallData(
          {
            userId: call.userId,
            callId: args.callId,
            recording: args.what.includes('recording'),
            transcript: args.what.includes('transcript'),
          },
          { signal: call.signal },
        );
        return {
          call: callViewOrNull(r.call),
          recordingDeleted: r.recordingDeleted,
          transcriptDeleted: r.transcriptDeleted,
        };
      },
      { users: backends.users },
    ),
  );
}
