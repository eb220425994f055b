import { z } from 'zod';

/** Output schemas of the profile and preference tools: user-credit's messages as account-view.ts shows them. */

export const preferencesSchema = z.looseObject({
  defaultVoice: z.string(),
  defaultModel: z.string(),
  language: z.string(),
  callerId: z.string(),
  maxCallDurationSeconds: z.number().int(),
  timezone: z.string(),
  quietHours: z
    .looseObject({ start: z.string(), end: z.string() })
    .nullable()
    .describe('HH:MM in your timezone; calls are refused between start and end. null: none.'),
  maxConcurrentCalls: z.number().int(),
  recordingEnabled: z.boolean().describe('Calls are recorded unless makePhoneCall says record: false.'),
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

export const balanceOutput = z.object({
  balance: z.object({
    available: z.number(),
    held: z.number(),
    debt: z.number(),
    unit: z.string(),
    lowBalance: z.boolean(),
  }),
});
