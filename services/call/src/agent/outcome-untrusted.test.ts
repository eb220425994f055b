/**
 * Outcome schemas are a user's and the answers a stranger's: a catastrophic pattern must be evaluated
 * in linear time (or refused), never block the event loop that every other call shares, and a schema
 * must stay within bounds that keep compiling it cheap. Nothing here measures time: a backtracking
 * engine would not return at all on these inputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { finalizeOutcome, type OutcomeField, OutcomeSchemaError, parseOutcomeSchema } from './outcome.js';
import { OUTCOME_SCHEMA_LIMITS } from './schema-limits.js';

const CATASTROPHIC = '^((((((.+)+)+)+)+)+)+!$';
/** Exponential for a backtracking engine: every split of the a's is tried before giving up on the missing "!". */
const ADVERSARIAL = `${'a'.repeat(5000)}?`;

const refusal = (json: string): string => {
  try {
    parseOutcomeSchema(json);
  } catch (error) {
    if (error instanceof OutcomeSchemaError) return error.message;
    throw error;
  }
  assert.fail(`the schema was accepted: ${json.slice(0, 80)}`);
};

describe('an outcome schema with a catastrophic pattern', () => {
  const fieldsOf = (json: string) => parseOutcomeSchema(json)?.fields ?? [];
  const schema = parseOutcomeSchema(
    JSON.stringify({ type: 'object', properties: { code: { type: 'string', pattern: CATASTROPHIC } } }),
  );
  const code = schema?.fields[0] as OutcomeField;

  it('is accepted and its pattern is evaluated on a long adversarial answer: a result, not a stalled event loop', () => {
    assert.equal(code.validate(ADVERSARIAL), false);
    assert.equal(code.validate(`${'a'.repeat(5000)}!`), true, 'the pattern still means what it says');
  });

  it('finalizeOutcome on the adversarial answer returns an outcome with the field missing', () => {
    const outcome = finalizeOutcome(
      schema,
      { fields: { code: ADVERSARIAL }, summary: 'said a lot', objectiveReached: true },
      'objective',
    );
    assert.deepEqual(outcome.fields, {});
    assert.deepEqual(outcome.missingFields, ['code']);
  });

  it('the same in patternProperties keys and propertyNames', () => {
    const [tags, names] = fieldsOf(
      JSON.stringify({
        properties: {
          tags: { type: 'object', patternProperties: { '^(a+)+$': { type: 'string' } }, additionalProperties: false },
          names: { type: 'object', propertyNames: { pattern: '^(a|a)*$' } },
        },
      }),
    );
    assert.equal(tags?.validate({ [ADVERSARIAL]: 'x' }), false);
    assert.equal(tags?.validate({ aaa: 'x' }), true);
    assert.equal(names?.validate({ [ADVERSARIAL]: 1 }), false);
  });

  it('patterns that differ are not confused with each other (Ajv caches compiled patterns by their text)', () => {
    const [a, b] = fieldsOf(JSON.stringify({ properties: { a: { pattern: '^\\d{4}$' }, b: { pattern: '^[a-z]+$' } } }));
    assert.equal(a?.validate('2024'), true);
    assert.equal(a?.validate('abcd'), false);
    assert.equal(b?.validate('abcd'), true);
    assert.equal(b?.validate('2024'), false);
  });
});

describe('outcome schemas the linear-time engine cannot run, or that are too large', () => {
  it('a backreference or lookahead is refused, naming the pattern and the engine', () => {
    assert.match(
      refusal(JSON.stringify({ properties: { a: { pattern: '(a)\\1' } } })),
      /^field "a": pattern "\(a\)\\\\1" cannot be used: .*linear-time engine \(RE2 syntax: no backreferences or lookaround\)/,
    );
    assert.match(refusal(JSON.stringify({ properties: { a: { pattern: '(?=a)' } } })), /linear-time engine/);
  });

  const limits = OUTCOME_SCHEMA_LIMITS;
  /** Objects nested `levels` deep, each a valid schema: {properties: {properties: {…}}}. */
  const nested = (levels: number): object => {
    let value: object = {};
    for (let i = 1; i < levels; i++) value = { properties: value };
    return value;
  };
  const cases: [string, unknown, RegExp][] = [
    [
      'longer than the size bound',
      { properties: { a: { description: 'x'.repeat(limits.maxLength) } } },
      new RegExp(`^the schema is \\d+ characters of JSON; at most ${limits.maxLength} are allowed$`),
    ],
    [
      'nested deeper than the depth bound',
      nested(limits.maxDepth + 1),
      new RegExp(`^the schema is nested more than ${limits.maxDepth} levels deep`),
    ],
    [
      'with more fields than the bound',
      { properties: Object.fromEntries(Array.from({ length: limits.maxFields + 1 }, (_, i) => [`f${i}`, {}])) },
      new RegExp(`^the schema has ${limits.maxFields + 1} fields in "properties"; at most ${limits.maxFields}`),
    ],
    [
      'with more patterns than the bound',
      {
        properties: Object.fromEntries(
          Array.from({ length: limits.maxPatterns + 1 }, (_, i) => [`f${i}`, { pattern: `^${i}$` }]),
        ),
      },
      new RegExp(`^the schema has more than ${limits.maxPatterns} patterns`),
    ],
    [
      'with a pattern longer than the bound',
      { properties: { a: { patternProperties: { ['a'.repeat(limits.maxPatternLength + 1)]: {} } } } },
      new RegExp(`^the schema has a pattern of ${limits.maxPatternLength + 1} characters; at most`),
    ],
  ];
  for (const [what, schema, message] of cases) {
    it(`a schema ${what} is refused, naming the limit`, () => {
      assert.match(refusal(JSON.stringify(schema)), message);
    });
  }

  it('a schema at every bound is accepted', () => {
    const atBounds = {
      properties: Object.fromEntries(
        Array.from({ length: limits.maxFields }, (_, i) => [
          `f${i}`,
          i < limits.maxPatterns ? { pattern: 'a'.repeat(limits.maxPatternLength) } : {},
        ]),
      ),
    };
    assert.equal(parseOutcomeSchema(JSON.stringify(atBounds))?.fields.length, limits.maxFields);
    assert.equal(parseOutcomeSchema(JSON.stringify(nested(limits.maxDepth)))?.fields.length, 1);
  });
});
