import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import type { Backends } from '../backends.js';
import { resourceErrorFrom } from '../grpc-errors.js';
import { needs, SCOPES } from '../tools/scopes.js';

export const RECORDING_URI = 'callgate://calls/{callId}/recording';

/**
 * A call's recording as a resource: the audio itself, base64 in `blob`, for clients that read
 * resources rather than follow getCallDetails' pre-signed URL. Only its owner reads it: another
 * user's call is "not found", as an unknown one is.
 */
export function registerRecordingResources(server: McpServer, backends: Backends): void {
  server.registerResource(
    'call-recording',
    new ResourceTemplate(RECORDING_URI, { list: undefined }),
    {
      title: "A call's recording",
      description:
        'The audio of one of your recorded calls (WAV, one channel per party). Long recordings are read through recording.url of getCallDetails.',
      mimeType: 'audio/wav',
      scopeChallenge: needs(SCOPES.callsRead),
    },
    async (uri, variables, ctx) => {
      try {
        const userId = await backends.users.ensure(ctx.http?.authInfo);
        const callId = Array.isArray(variables.callId) ? (variables.callId[0] ?? '') : (variables.callId ?? '');
        const r = await backends.call.getCallRecording({ userId, callId }, { signal: ctx.mcpReq.signal });
        return {
          contents: [
            { uri: uri.href, mimeType: r.contentType || 'audio/wav', blob: Buffer.from(r.audio).toString('base64') },
          ],
        };
      } catch (error) {
        resourceErrorFrom(error, uri.href);
      }
    },
  );
}
