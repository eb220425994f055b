import type { Options } from 'ajv';
import { RE2JS, RE2JSException } from 're2js';
import { estimatedProgramSize } from './pattern-size.js';

type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>;

/**
 * Instructions one pattern may compile to. Every match walks the whole program and each compile costs
 * about 1.5 µs per instruction on the shared event loop; 20 patterns (the schema's bound) of this size
 * compile in under 0.1 s. `^.{0,600}$` (about 1,200 by the engine, 1,800 by the estimate) fits; longer
 * length bounds belong in maxLength.
 */
export const MAX_PATTERN_PROGRAM = 2_500;

/**
 * Ajv's regex engine for outcome schemas: patterns come from users and run on what a callee said, so a
 * backtracking engine (V8's RegExp) lets one schema such as ^((.+)+)+!$ block the shared event loop.
 * RE2JS (a pure-JS port of RE2) matches in time linear in the input, and loads the same on every Node
 * version; the native `re2` bindings would need a build per Node ABI (CI runs one install on 20, 22 and 24).
 * RE2 syntax has no backreferences or lookaround: such a pattern is refused when the schema is read.
 */
export const linearRegExp: RegExpEngine = Object.assign(
  (pattern: string, _flags: string) => {
    let compiled: RE2JS;
    try {
      // RE2 is Unicode-aware without a flag, as Ajv's `u` asks.
      const translated = RE2JS.translateRegExp(pattern);
      // Checked before compiling, so a huge program is never paid for; then against the engine's own count.
      const estimate = estimatedProgramSize(translated);
      if (estimate > MAX_PATTERN_PROGRAM) throw new UnsupportedPatternError(pattern, tooLarge(`about ${estimate}`));
      compiled = RE2JS.compile(translated);
    } catch (error) {
      if (error instanceof RE2JSException) throw new UnsupportedPatternError(pattern, error.message);
      throw error;
    }
    const size = compiled.programSize();
    if (size > MAX_PATTERN_PROGRAM) throw new UnsupportedPatternError(pattern, tooLarge(String(size)));
    return {
      test: (text: string) => compiled.test(text),
      // Ajv caches compiled patterns under this string: it must be the pattern's own.
      toString: () => `/${pattern}/`,
    };
  },
  // Ajv's standalone code would call this by name; callgate never generates standalone code.
  { code: 'linearRegExp' },
);

const tooLarge = (size: string) =>
  `it compiles to ${size} instructions, more than ${MAX_PATTERN_PROGRAM} (a counted repetition such as ` +
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
