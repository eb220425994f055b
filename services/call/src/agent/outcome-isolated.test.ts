/**
 * Each outcome schema is read on its own: no identity registered between calls, no reference out of
 * the schema, and no pattern whose counted repetitions copy out into a huge program. (The attack tests in
 * test/e2e/attack-outcome-schema.test.ts cover the cross-call cases; these cover the edges of the rules.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PATTERN_PROGRAM_LIMITS } from './linear-regexp.js';
import { OutcomeSchemaError, parseOutcomeSchema } from './outcome.js';
import { estimatedProgramSize } from './pattern-size.js';

const refusal = (schema: unknown): string => {
  try {
    parseOutcomeSchema(JSON.stringify(schema));
  } catch (error) {
    if (error instanceof OutcomeSchemaError) return error.message;
    throw error;
  }
  assert.fail(`the schema was accepted: ${JSON.stringify(schema).slice(0, 80)}`);
};

describe('outcome schema identity and references', () => {
  it('an $id inside a field is ignored (the field is compiled alone and again within the whole schema)', () => {
    const schema = parseOutcomeSchema(
      JSON.stringify({ properties: { size: { $id: 'https://x.example/size', type: 'integer' } } }),
    );
    assert.equal(schema?.fields[0]?.validate(4), true);
    assert.equal(schema?.fields[0]?.validate('four'), false);
  });

  it('a local $ref resolves', () => {
    const schema = parseOutcomeSchema(
      JSON.stringify({
        definitions: { day: { type: 'string', enum: ['mon', 'tue'] } },
        properties: { day: { type: 'string' } },
        additionalProperties: false,
        dependencies: { day: { properties: { day: { $ref: '#/definitions/day' } } } },
      }),
    );
    assert.equal(schema?.validate({ day: 'mon' }), true);
    assert.equal(schema?.validate({ day: 'sun' }), false);
  });

  it('a $ref out of the schema is refused, naming it', () => {
    for (const ref of ['https://evil.example/s.json', 'other.json#/x', 'urn:x']) {
      const message = refusal({ properties: { f: { $ref: ref } } });
      assert.match(message, /\$ref/);
      assert.ok(message.includes(ref), message);
    }
  });

  it('fields and data may be named $id and $ref', () => {
    const schema = parseOutcomeSchema(
      JSON.stringify({ properties: { $ref: { type: 'string', enum: [{ $ref: 'x' }, 'y'] }, $id: { type: 'string' } } }),
    );
    assert.deepEqual(
      schema?.fields.map((f) => f.name),
      ['$ref', '$id'],
    );
  });
});

describe('the compiled size of a pattern', () => {
  it('common patterns and a 600-character length pattern are accepted', () => {
    for (const pattern of ['^\\d{3}-\\d{3}-\\d{4}$', '^[A-Z]{2}[0-9]{2}( ?[A-Z0-9]{4}){2,7}$', '^.{0,600}$']) {
      assert.equal(parseOutcomeSchema(JSON.stringify({ properties: { f: { pattern } } }))?.fields.length, 1, pattern);
    }
  });

  for (const pattern of ['(a{40}){40}', '[a-z]{900}[0-9]{900}[A-Z]{900}', '((x|y){30}z){30}']) {
    it(`${pattern} is refused naming the field, the pattern and the bound`, () => {
      const message = refusal({ properties: { f: { type: 'string', pattern } } });
      assert.ok(message.startsWith('field "f": pattern'), message);
      assert.ok(message.includes(JSON.stringify(pattern)), message);
      assert.ok(message.includes(String(PATTERN_PROGRAM_LIMITS.perPattern)), message);
    });
  }

  it('the patterns of one schema have a total: nine of 1,200 instructions are refused at the ninth, naming it', () => {
    const properties = Object.fromEntries(
      [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => [`f${n}`, { type: 'string', pattern: `^.{0,600}${n}$` }]),
    );
    const message = refusal({ properties });
    assert.ok(message.startsWith('field "f9": pattern "^.{0,600}9$"'), message);
    assert.ok(message.includes(`more than ${PATTERN_PROGRAM_LIMITS.perSchema} in all`), message);
    // Eight fit, read twice (each field is compiled alone and in the whole schema, and the relay reads
    // the schema again): a pattern counts once, and the total is per schema, not per process.
    delete properties.f9;
    assert.equal(parseOutcomeSchema(JSON.stringify({ properties }))?.fields.length, 8);
    assert.equal(parseOutcomeSchema(JSON.stringify({ properties }))?.fields.length, 8);
  });

  it('the estimate is never below what the engine compiles (it is checked before compiling)', async () => {
    const { RE2JS } = await import('re2js');
    for (const pattern of [
      '^.{0,1000}$',
      '(ab|cd){10}',
      '\\Qa{1000}\\E',
      '^(?P<a>[a-z]+|x{3,})+@[^]{}x]{2,9}$',
      '[[:alpha:]]{20}\\p{Greek}{10}\\x{41}{5}',
      'a{,5}b*?c+?',
      '(?i)(?:abc){7,}',
    ]) {
      const real = RE2JS.compile(RE2JS.translateRegExp(pattern)).programSize();
      assert.ok(
        estimatedProgramSize(pattern) >= real,
        `${pattern}: estimate ${estimatedProgramSize(pattern)} < ${real}`,
      );
    }
  });
});
