import type { Options } from 'ajv';
import { RE2JS, RE2JSException } from 're2js';
import { estimatedProgramSize } from './pattern-size.js';

type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>;

/**
 * Instructions one pattern may compile to, and all the patterns of one schema together. Every match
 * walks the whole program, and compiling costs a few microseconds per instruction on the shared event
 * loop, paid at makePhoneCall and again when the call connects: 20 patterns of 1,200 instructions took
 * about 0.1 s a schema, so the schema has a total as well, which 20 patterns of 500 plain characters (the
 * bounds of schema-limits.ts) fit. `^.{0,600}$` (about 1,200) fits; longer length bounds belong in maxLength.
 */
export const PATTERN_PROGRAM_LIMITS = { perPattern: 2_500, perSchema: 10_500 } as const;

/**
 * Ajv's regex engine for one outcome schema (a new one for each schema, as it counts the schema's
 * total): patterns come from users and run on what a callee said, so a backtracking engine (V8's
 * RegExp) lets one schema such as ^((.+)+)+!$ block the shared event loop. RE2JS (a pure-JS port of
 * RE2) matches in time linear in the input, and loads the same on every Node version; the native `re2`
 * bindings would need a build per Node ABI (CI runs one install on 20, 22 and 24). RE2 syntax has no
 * backreferences or lookaround: such a pattern is refused when the schema is read.
 */
export function linearRegExpEngine(): RegExpEngine {
  const limits = PATTERN_PROGRAM_LIMITS;
  let schemaTotal = 0;
  // Ajv calls the engine at every use of a pattern (each field is compiled alone and within the whole
  // schema): a pattern is compiled and counted once per schema.
  const seen = new Map<string, ReturnType<RegExpEngine>>();
  return Object.assign(
    (pattern: string, _flags: string) => {
      const known = seen.get(pattern);
      if (known) return known;
      let compiled: RE2JS;
      try {
        // RE2 is Unicode-aware without a flag, as Ajv's `u` asks.
        const translated = RE2JS.translateRegExp(pattern);
        // Checked before compiling, so a huge program is never paid for; then against the engine's own count.
        const estimate = estimatedProgramSize(translated);
        if (estimate > limits.perPattern) {
          throw new UnsupportedPatternError(pattern, tooLarge(`about ${estimate}`, limits.perPattern));
        }
        compiled = RE2JS.compile(translated);
      } catch (error) {
        if (error instanceof RE2JSException) throw new UnsupportedPatternError(pattern, error.message);
        throw error;
      }
      const size = compiled.programSize();
      if (size > limits.perPattern)
        throw new UnsupportedPatternError(pattern, tooLarge(String(size), limits.perPattern));
      schemaTotal += size;
      if (schemaTotal > limits.perSchema) {
        throw new UnsupportedPatternError(
          pattern,
          `with the patterns before it, the schema's patterns compile to ${schemaTotal} instructions, more than ${limits.perSchema} in all`,
        );
      }
      const engine = {
        test: (text: string) => compiled.test(text),
        // Ajv caches compiled patterns under this string: it must be the pattern's own.
        toString: () => `/${pattern}/`,
      };
      seen.set(pattern, engine);
      return engine;
    },
    // Ajv's standalone code would call this by name; callgate never generates standalone code.
    { code: 'linearRegExp' },
  );
}

const tooLarge = (size: string, limit: number) =>
  `it compiles to ${size} instructions, more than ${limit} (a counted repetition such as ` +
  '{1000} is copied out that many times; bound lengths with maxLength instead)';

export class UnsupportedPatternError extends Error {
  override readonly name = 'UnsupportedPatternError';
  constructor(pattern: string, reason: string) {
    super(
      `pattern ${JSON.stringify(pattern)} cannot be used: ${reason.replace(/^error parsing regexp: /, '')}. ` +
        'Patterns run on a linear-time engine (RE2 syntax: no backreferences or lookaround).',
    );
  }
}
