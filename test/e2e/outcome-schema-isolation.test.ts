/**
 * Found from outside (attack1, after issue 17 item 2): outcome schemas are compiled by one Ajv shared by
 * every call of the process, which keeps each compiled schema (and its RE2JS programs) for ever and
 * registers every `$id` globally. So one user's schema outlives its request (memory grows with every
 * makePhoneCall, ~100 MB per schema of large-repetition patterns), collides with the next schema
 * that uses the same `$id` (including the relay's own second reading of the same call's schema), and
 * can be referenced from another user's schema.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutcomeSchemaError, parseOutcomeSchema } from '../../services/call/src/agent/outcome.js';

describe('attack: outcome schemas are isolated per call', () => {
  it('a schema with an $id can be read again (the relay reads the stored schema a second time at connect)', () => {
    const json = JSON.stringify({
      $id: 'https://attack1.example/booking',
      properties: { partySize: { type: 'string' } },
    });
    const atPlaceCall = parseOutcomeSchema(json);
    assert.equal(atPlaceCall?.fields.length, 1);
    // Today the second reading throws 'schema with key or id … already exists', and the relay then
    // runs the call with no outcome fields at all.
    const atConnect = parseOutcomeSchema(json);
    assert.equal(atConnect?.fields.length, 1);
  });

  it("one call's schema cannot reference another call's schema by its $id", () => {
    parseOutcomeSchema(
      JSON.stringify({
        $id: 'https://attack1.example/victim',
        properties: { code: { type: 'string', enum: ['secret-A', 'secret-B'] } },
      }),
    );
    // Another user's schema pointing at it: it must not resolve (no shared registry between calls).
    assert.throws(
      () =>
        parseOutcomeSchema(
          JSON.stringify({ properties: { probe: { $ref: 'https://attack1.example/victim#/properties/code' } } }),
        ),
      OutcomeSchemaError,
    );
  });

  it('a pattern whose repetitions compile to a huge program is refused naming the outcomeSchema bound', () => {
    // 497 characters, within the 500-character bound, but `.{1000}` 71 times is a 71,000-state
    // program: about 0.3 s to compile here (20 such patterns: 2 s on the call service's event loop and
    // ~100 MB kept), and each match walks all of it.
    const pattern = '.{1000}'.repeat(71);
    assert.ok(pattern.length <= 500);
    assert.throws(
      () => parseOutcomeSchema(JSON.stringify({ properties: { f: { type: 'string', pattern } } })),
      (error: unknown) => error instanceof OutcomeSchemaError && /pattern/.test(error.message),
    );
  });
});
