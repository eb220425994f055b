import { Ajv, type ValidateFunction } from 'ajv';
import type { EndReason, Outcome } from '../transcript-store.js';
import type { ProposedOutcome } from './agent.js';
import { linearRegExpEngine, UnsupportedPatternError } from './linear-regexp.js';
import { outcomeSchemaOverLimit, parsedOutcomeSchemaOverLimit } from './schema-limits.js';

/** One field of the outcome schema, with a validator of its own so a bad value drops only that field. */
export interface OutcomeField {
  name: string;
  /** The field's JSON Schema (type, description, enum, …). */
  schema: Record<string, unknown>;
  /** JSON Schema `type` when it is one simple type, else undefined. */
  type: string | undefined;
  description: string | undefined;
  validate: ValidateFunction;
}

export interface OutcomeSchema {
  /** The schema as the caller gave it. */
  raw: Record<string, unknown>;
  fields: OutcomeField[];
  /** Validates a whole object of learned fields (the schema without `required`: missing fields are reported apart). */
  validate: ValidateFunction;
  /** The validators' errors in words. */
  errorsText: (errors: ValidateFunction['errors']) => string;
}

export class OutcomeSchemaError extends Error {
  override readonly name = 'OutcomeSchemaError';
}

// A fresh Ajv compiles each schema: an Ajv keeps every schema it compiled (code, regex programs, $id
// registrations) for as long as it lives, and removeSchema does not free the compiled code, so one
// process-wide instance grew with every makePhoneCall and let one call's $id collide with, or be
// $ref'd by, another's. The per-schema instance lives as long as the call's OutcomeSchema.
// Checking a schema against the JSON Schema meta-schema is what makes a fresh Ajv slow (it compiles the
// meta-schema first: ~16 ms against ~1 ms), so that check runs on one shared instance that only ever
// holds the meta-schema (validateSchema compiles nothing of the user's), and the fresh ones skip it.
// strict: false accepts the keywords people write (title, examples, format) without failing the whole
// schema. Patterns run on a linear-time engine (the schema is a user's, the data a stranger's); formats
// are annotations, as no format is added, and validateFormats: false keeps each unknown one from being
// logged at every compile.
const options = { strict: false, allErrors: true, validateFormats: false } as const;
const metaSchemaChecker = new Ajv(options);
const newAjv = () =>
  new Ajv({ ...options, meta: false, validateSchema: false, code: { regExp: linearRegExpEngine() } });

/**
 * Reads an outcome schema (makePhoneCall's outcomeSchema): a JSON Schema object whose `properties`
 * are the fields to learn. Throws OutcomeSchemaError with a message a person can act on.
 */
export function parseOutcomeSchema(json: string): OutcomeSchema | undefined {
  if (!json) return undefined;
  const tooLarge = outcomeSchemaOverLimit(json);
  if (tooLarge) throw new OutcomeSchemaError(`the schema ${tooLarge}`);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new OutcomeSchemaError('not valid JSON');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new OutcomeSchemaError('a JSON Schema object is expected');
  const schema = raw as Record<string, unknown>;
  const overLimit = parsedOutcomeSchemaOverLimit(schema);
  if (overLimit) throw new OutcomeSchemaError(`the schema ${overLimit}`);
  const compilable = selfContained(schema);
  const ajv = newAjv();
  const properties = compilable.properties ?? {};
  if (!properties || typeof properties !== 'object' || Array.isArray(properties)) {
    throw new OutcomeSchemaError('"properties" must be an object of field schemas');
  }
  const fields: OutcomeField[] = [];
  for (const [name, value] of Object.entries(properties as Record<string, unknown>)) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new OutcomeSchemaError(`field "${name}" must be a JSON Schema object, e.g. {"type": "string"}`);
    }
    const field = value as Record<string, unknown>;
    const problem = metaSchemaProblem(field);
    if (problem) throw new OutcomeSchemaError(`field "${name}" is not a valid JSON Schema: ${problem}`);
    fields.push({
      name,
      schema: field,
      type: typeof field.type === 'string' ? field.type : undefined,
      description: typeof field.description === 'string' ? field.description : undefined,
      validate: compile(ajv, field, `field "${name}"`),
    });
  }
  const problem = metaSchemaProblem(compilable);
  if (problem) throw new OutcomeSchemaError(`the schema is not a valid JSON Schema: ${problem}`);
  const { required: _required, ...partial } = compilable;
  return {
    raw: schema,
    fields,
    validate: compile(ajv, partial, 'the schema'),
    errorsText: (errors) => ajv.errorsText(errors),
  };
}

/** Why the schema breaks the JSON Schema (draft-07) meta-schema; undefined when it does not. */
function metaSchemaProblem(schema: Record<string, unknown>): string | undefined {
  try {
    if (metaSchemaChecker.validateSchema(schema)) return undefined;
    return metaSchemaChecker.errorsText(metaSchemaChecker.errors, { dataVar: 'schema' });
  } catch (error) {
    // A $schema that names no meta-schema Ajv knows.
    return (error as Error).message;
  }
}

/** Keywords whose values are data, not schemas: a "$ref" key inside them is a value like any other. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);
/** Keywords whose keys are names (of fields, definitions, patterns) and whose values are schemas. */
const NAME_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependencies']);

/**
 * A copy of the schema that stands alone: without `$id` (an identity to register, meaningless for one
 * call's schema) and refusing a `$ref` that points outside the schema, which Ajv would resolve against
 * whatever else it had loaded or try to fetch. The depth bound has been checked, so recursion is safe.
 */
function selfContained(schema: Record<string, unknown>): Record<string, unknown> {
  const copy = (value: unknown, namesAt: boolean): unknown => {
    if (!value || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => copy(item, false));
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (!namesAt && key === '$id') continue;
      if (!namesAt && key === '$ref' && !(typeof child === 'string' && child.startsWith('#'))) {
        throw new OutcomeSchemaError(
          `"$ref": ${JSON.stringify(child)} points outside the schema; only local references such as "#/definitions/name" are allowed`,
        );
      }
      if (namesAt) out[key] = copy(child, false);
      else if (DATA_KEYWORDS.has(key)) out[key] = child;
      else out[key] = copy(child, NAME_MAPS.has(key));
    }
    return out;
  };
  return copy(schema, false) as Record<string, unknown>;
}

function compile(ajv: Ajv, schema: Record<string, unknown>, what: string): ValidateFunction {
  try {
    return ajv.compile(schema);
  } catch (error) {
    if (error instanceof UnsupportedPatternError) throw new OutcomeSchemaError(`${what}: ${error.message}`);
    throw new OutcomeSchemaError(`${what} is not a valid JSON Schema: ${(error as Error).message}`);
  }
}

/**
 * The outcome to store: only proposed fields that are in the schema and valid against it are kept;
 * every other schema field is listed as missing, never filled in.
 */
export function finalizeOutcome(
  schema: OutcomeSchema | undefined,
  proposed: ProposedOutcome,
  endReason: EndReason,
): Outcome {
  const fields: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const field of schema?.fields ?? []) {
    const value = proposed.fields[field.name];
    if (value !== undefined && value !== null && field.validate(value)) fields[field.name] = value;
    else missing.push(field.name);
  }
  // Whole-object keywords (dependencies, additionalProperties, …) may still refuse the set: then nothing is trusted.
  if (schema && !schema.validate(fields)) {
    return {
      fields: {},
      missingFields: schema.fields.map((f) => f.name),
      summary: `${proposed.summary} (the learned values did not satisfy the outcome schema: ${schema.errorsText(schema.validate.errors)})`,
      objectiveReached: false,
      endReason,
    };
  }
  return {
    fields,
    missingFields: missing,
    summary: proposed.summary,
    objectiveReached: proposed.objectiveReached && missing.length === 0,
    endReason,
  };
}
