import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { priceTableSchema } from './pricing.js';

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
  /** Decides the price: a key of pricing.tiers. */
  tier: z.string().min(1),
  description: z.string(),
});

const catalogSchema = z
  .object({
    defaultVoice: z.string(),
    defaultModel: z.string(),
    pricing: priceTableSchema,
    voices: z.array(voiceSchema).min(1),
    models: z.array(modelSchema).min(1),
  })
  .refine((c) => c.voices.some((v) => v.id === c.defaultVoice), { message: 'defaultVoice is not one of voices' })
  .refine((c) => c.models.some((m) => m.id === c.defaultModel), { message: 'defaultModel is not one of models' })
  .refine((c) => c.models.every((m) => m.tier in c.pricing.tiers), {
    message: 'every model tier must be priced in pricing.tiers',
  });

export type Catalog = z.infer<typeof catalogSchema>;
export type VoiceEntry = Catalog['voices'][number];
export type ModelEntry = Catalog['models'][number] & { creditsPerMinute: number };

/** The catalogue shipped with the code; CALL_OPTIONS_FILE replaces it. */
export const BUNDLED_CATALOG_FILE = fileURLToPath(new URL('../../catalog/options.json', import.meta.url));

/**
 * The voices, models and prices a call may use, from a JSON file, validated at start-up. The call
 * service offers and prices from it and user-credit validates preferences against it, so both read
 * the same file rather than one asking the other on every preference change.
 */
export function loadCatalog(file: string = BUNDLED_CATALOG_FILE): Catalog {
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

export interface VoiceFilter {
  /** BCP 47 prefix: "en" matches "en-GB"; empty matches all. */
  language: string;
  /** TTS provider; empty matches all. */
  provider: string;
}

/** Whether a voice speaks a language, by the same prefix rule as the filter. */
export function speaks(voice: VoiceEntry, language: string): boolean {
  const wanted = language.toLowerCase();
  return voice.languages.some((l) => l.toLowerCase() === wanted || l.toLowerCase().startsWith(`${wanted}-`));
}

/** Voices filtered by language prefix and provider. */
export function findVoices(catalog: Catalog, filter: VoiceFilter): VoiceEntry[] {
  return catalog.voices.filter(
    (v) =>
      (!filter.provider || v.provider === filter.provider.toLowerCase()) &&
      (!filter.language || speaks(v, filter.language)),
  );
}

export function findVoice(catalog: Catalog, id: string): VoiceEntry | undefined {
  return catalog.voices.find((v) => v.id === id);
}

/** A model with its price per minute resolved from its tier. */
export function findModel(catalog: Catalog, id: string): ModelEntry | undefined {
  const model = catalog.models.find((m) => m.id === id);
  return model && { ...model, creditsPerMinute: catalog.pricing.tiers[model.tier]?.creditsPerMinute ?? 0 };
}

export function listModels(catalog: Catalog): ModelEntry[] {
  return catalog.models.map((m) => findModel(catalog, m.id) as ModelEntry);
}
