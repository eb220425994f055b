import { z } from 'zod';

/** Output schemas of the profile and preference tools: user-credit's proto messages as clients get them. */

export const preferencesSchema = z.looseObject({
  defaultVoice: z.string(),
  defaultModel: z.string(),
  language: z.string(),
  callerId: z.string(),
  maxCallDurationSeconds: z.number().int(),
  recordingEnabled: z.boolean(),
  timezone: z.string(),
  quietHours: z.looseObject({ start: z.string(), end: z.string() }).nullable().describe('Empty start/end: none.'),
  maxConcurrentCalls: z.number().int(),
});

export const profileSchema = z.looseObject({
  userId: z.string(),
  displayName: z.string(),
  email: z.string(),
  organization: z.string(),
  plan: z.string(),
  createdAt: z.string(),
  callerIds: z.array(z.string()).describe('Numbers you may use as caller id.'),
});

export const preferencesOutput = z.object({ preferences: preferencesSchema });
export const profileOutput = z.object({ profile: profileSchema, preferences: preferencesSchema });
