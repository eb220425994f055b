import type { Options } from 'ajv';
import { RE2JS, RE2JSException } from 're2js';

type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>;

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
      compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
    } catch (error) {
      if (error instanceof RE2JSException) throw new UnsupportedPatternError(pattern, error.message);
      throw error;
    }
    return {
      test: (text: string) => compiled.test(text),
      // Ajv caches compiled patterns under this string: it must be the pattern's own.
      toString: () => `/${pattern}/`,
    };
  },
  // Ajv's standalone code would call this by name; callgate never generates standalone code.
  { code: 'linearRegExp' },
);

export class UnsupportedPatternError extends Error {
  override readonly name = 'UnsupportedPatternError';
  constructor(pattern: string, reason: string) {
    super(
      `pattern ${JSON.stringify(pattern)} cannot be used: ${reason.replace(/^error parsing regexp: /, '')}. ` +
        'Patterns run on a linear-time engine (RE2 syntax: no backreferences or lookaround).',
    );
  }
}
