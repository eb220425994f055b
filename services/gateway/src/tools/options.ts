import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import { grpcTool } from './result.js';

const voice = z.object({
  id: z.string(),
  provider: z.string(),
  name: z.string(),
  languages: z.array(z.string()),
  gender: z.string(),
  description: z.string(),
});

const model = z.object({
  id: z.string(),
  name: z.string(),
  provider: z.string(),
  tier: z.string(),
  creditsPerMinute: z.number(),
  description: z.string(),
});

export function registerOptionTools(server: McpServer, backends: Backends): void {
  server.registerTool(
    'getVoiceOptions',
    {
      title: 'Voice options',
      description: 'Lists the voices a call can use (pass an id as makePhoneCall.voice), optionally filtered.',
      // Strict: a misspelt filter (lang) is refused, not dropped into an unfiltered list.
      inputSchema: z.strictObject({
        language: z.string().max(16).optional().describe('Only voices for this language; "en" matches "en-GB".'),
        provider: z.enum(['google', 'amazon', 'elevenlabs']).optional().describe('Only voices of this TTS provider.'),
      }),
      outputSchema: z.object({ voices: z.array(voice), defaultVoice: z.string() }),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(async (args, call) => {
      const r = await backends.call.getVoiceOptions(
        { language: args.language ?? '', provider: args.provider ?? '' },
        { signal: call.signal },
      );
      return { voices: r.voices, defaultVoice: r.defaultVoice };
    }),
  );

  server.registerTool(
    'getModelOptions',
    {
      title: 'Model options',
      description: 'Lists the conversation models a call can use, with their price in credits per started minute.',
      inputSchema: z.strictObject({}),
      outputSchema: z.object({ models: z.array(model), defaultModel: z.string() }),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(async (_args, call) => {
      const r = await backends.call.getModelOptions({}, { signal: call.signal });
      return { models: r.models, defaultModel: r.defaultModel };
    }),
  );
}
