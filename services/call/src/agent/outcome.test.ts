/**
 * Outcome schemas and outcomes: a schema is read (and refused with a message that says why) before a
 * call is placed; at the end only values the schema accepts are kept, and every other field is
 * reported missing, never filled in.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labelOf, parseInteger, readAnswer } from './answers.js';
import { finalizeOutcome, type OutcomeField, OutcomeSchemaError, parseOutcomeSchema } from './outcome.js';

const SCHEMA = JSON.stringify({
  type: 'object',
  properties: {
    partySize: { type: 'integer', minimum: 1 },
    time: { type: 'string' },
    seating: { enum: ['inside', 'terrace'] },
  },
  required: ['partySize', 'time'],
});

describe('parseOutcomeSchema', () => {
  it('reads the fields in order with their types', () => {
    const schema = parseOutcomeSchema(SCHEMA);
    assert.deepEqual(
      schema?.fields.map((f) => [f.name, f.type]),
      [
        ['partySize', 'integer'],
        ['time', 'string'],
        ['seating', undefined],
      ],
    );
  });

  it('no schema is no fields', () => {
    assert.equal(parseOutcomeSchema(''), undefined);
  });

  for (const [what, json, message] of [
    ['not JSON', '{', /not valid JSON/],
    ['an array', '[1]', /JSON Schema object/],
    ['properties not an object', '{"properties": 3}', /"properties" must be an object/],
    ['a field that is not a schema', '{"properties": {"a": 1}}', /field "a" must be a JSON Schema object/],
    ['a field Ajv cannot compile', '{"properties": {"a": {"type": "integr"}}}', /field "a" is not a valid JSON Schema/],
  ] as const) {
    it(`refuses ${what} with a message that says why`, () => {
      assert.throws(
        () => parseOutcomeSchema(json),
        (error: unknown) => error instanceof OutcomeSchemaError && message.test(error.message),
      );
    });
  }
});

describe('finalizeOutcome', () => {
  const schema = parseOutcomeSchema(SCHEMA);

  it('keeps valid values and lists every other field as missing', () => {
    const outcome = finalizeOutcome(
      schema,
      { fields: { partySize: 4, seating: 'roof', extra: 'x' }, summary: 's', objectiveReached: true },
      'objective',
    );
    assert.deepEqual(outcome.fields, { partySize: 4 });
    assert.deepEqual(outcome.missingFields, ['time', 'seating']);
    assert.equal(outcome.objectiveReached, false, 'not reached while fields are missing');
  });

  it('drops values of the wrong type or out of range, and nulls', () => {
    const outcome = finalizeOutcome(
      schema,
      { fields: { partySize: 0, time: null, seating: 'inside' }, summary: 's', objectiveReached: true },
      'objective',
    );
    assert.deepEqual(outcome.fields, { seating: 'inside' });
    assert.deepEqual(outcome.missingFields, ['partySize', 'time']);
  });

  it('everything learned and valid: reached as the agent says', () => {
    const outcome = finalizeOutcome(
      schema,
      { fields: { partySize: 2, time: '8pm', seating: 'terrace' }, summary: 'ok', objectiveReached: true },
      'objective',
    );
    assert.deepEqual(outcome, {
      fields: { partySize: 2, time: '8pm', seating: 'terrace' },
      missingFields: [],
      summary: 'ok',
      objectiveReached: true,
      endReason: 'objective',
    });
  });
});

describe('reading answers (built-in agent)', () => {
  const field = (schema: Record<string, unknown>) =>
    parseOutcomeSchema(JSON.stringify({ properties: { f: schema } }))?.fields[0] as OutcomeField;

  it('integers in digits or words; none when none is said', () => {
    assert.equal(parseInteger('We will be 12 people'), 12);
    assert.equal(parseInteger('four of us'), 4);
    assert.equal(parseInteger('twenty two'), 22);
    assert.equal(readAnswer(field({ type: 'integer' }), 'quite a few'), undefined);
  });

  it('questions and "not sure" are not answers', () => {
    assert.equal(readAnswer(field({ type: 'string' }), 'Who is this?'), undefined);
    assert.equal(readAnswer(field({ type: 'string' }), "I don't know."), undefined);
  });

  it('strings as said, booleans from yes/no, enums by mention', () => {
    assert.equal(readAnswer(field({ type: 'string' }), '7:30 PM.'), '7:30 PM');
    assert.equal(readAnswer(field({ type: 'boolean' }), 'Yes, we do.'), true);
    assert.equal(readAnswer(field({ type: 'boolean' }), 'No.'), false);
    assert.equal(readAnswer(field({ enum: ['inside', 'terrace'] }), 'On the terrace please'), 'terrace');
  });

  it('labels from the description, else from the name', () => {
    assert.equal(labelOf(field({ type: 'integer' })), 'f');
    assert.equal(labelOf(field({ description: 'Number of guests.' })), 'number of guests');
    const camel = parseOutcomeSchema(JSON.stringify({ properties: { arrivalTime: {} } }))?.fields[0] as OutcomeField;
    assert.equal(labelOf(camel), 'arrival time');
  });
});
