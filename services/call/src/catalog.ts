import { readFileSync } from 'node:fs';
import type { callV1 } from '@callgate/protos';
import { z } from 'zod';

const voiceSchema = z.object({
  id: z.string().min(1),
  provider: z.enum(['google', 'amazon', 'elevenlabs']),
  name: z.string().min(1),
  languages: z.array(z.string().regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'a BCP 47 tag such as en-US')).min(1),
  gender: z.enum(['female', 'male', 'neutral']),
  description: z.string(),
});

const modelSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  provider: z.string().min(1),
  tier: z.string().min(1),
  creditsPerMinute: z.number().int().positive(),
  description: z.string(),
});

const catalogSchema = z
  .object({
    defaultVoice: z.string(),
    defaultModel: z.string(),
    voices: z.array(voiceSchema).min(1),
    models: z.array(modelSchema).min(1),
  })
  .refine((c) => c.voices.some((v) => v.id === c.defaultVoice), { message: 'defaultVoice is not one of voices' })
  .refine((c) => c.models.some((m) => m.id === c.defaultModel), { message: 'defaultModel is not one of models' });

export type Catalog = z.infer<typeof catalogSchema>;

/** The voices and models a call may use, from a JSON file (CALL_OPTIONS_FILE), validated at start-up. */
export function loadCatalog(file: string): Catalog {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read voice and model options from ${file}: ${(error as Error).message}`);
  }
  const parsed = catalogSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid options in ${file}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Voices filtered by language prefix ("en" matches "en-GB") and provider. */
export function findVoices(catalog: Catalog, filter: { language: string; provider: string }): callV1.VoiceOption[] {
  const language = filter.language.toLowerCase();
  return catalog.voices.filter(
    (v) =>
      (!filter.provider || v.provider === filter.provider.toLowerCase()) &&
      (!language ||
        v.languages.some((l) => l.toLowerCase() === language || l.toLowerCase().startsWith(`${language}-`))),
  );
}
