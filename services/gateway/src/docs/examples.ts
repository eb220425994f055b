/**
 * A minimal example value for a JSON Schema: the required properties, and the optional ones whose
 * schema gives `examples` (a tool marks what a good request should show, such as an idempotencyKey),
 * each from the schema's own `examples`, `default`, `const` or `enum` when it has them, else a plain
 * value that meets its type, pattern and bounds. Documentation only: the test checks each example
 * validates against its schema.
 */

type JsonSchema = Record<string, unknown>;

/** Strings tried against a `pattern`, in order; the first that matches is used. */
const PATTERN_SAMPLES = ['+14155550001', 'en-US', '09:00', 'example', 'example-1', 'EXAMPLE', '1'];

function stringExample(schema: JsonSchema): string {
  if (schema.format === 'date-time') return '2026-01-01T09:00:00Z';
  if (schema.format === 'date') return '2026-01-01';
  if (schema.format === 'email') return 'someone@example.com';
  if (schema.format === 'uri') return 'https://example.com';
  let value = 'example';
  if (typeof schema.pattern === 'string') {
    let pattern: RegExp | undefined;
    try {
      pattern = new RegExp(schema.pattern, 'u');
    } catch {
      // A pattern JavaScript cannot compile: fall back to the plain value.
    }
    value = PATTERN_SAMPLES.find((sample) => pattern?.test(sample)) ?? value;
  }
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
  if (value.length < min) value = value.padEnd(min, '-1');
  return value.slice(0, max);
}

function numberExample(schema: JsonSchema): number {
  const min = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  if (min !== undefined) return min;
  if (max !== undefined && max < 1) return max;
  return 1;
}

export function exampleFor(schema: unknown, depth = 0): unknown {
  if (!schema || typeof schema !== 'object' || depth > 8) return null;
  const s = schema as JsonSchema;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if ('const' in s) return s.const;
  if ('default' in s) return s.default;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const alternatives = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
  if (Array.isArray(alternatives)) {
    const first = alternatives.find((a) => (a as JsonSchema)?.type !== 'null') ?? alternatives[0];
    return exampleFor(first, depth + 1);
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      const required = Array.isArray(s.required) ? (s.required as string[]) : [];
      const shown = Object.keys(properties).filter(
        (key) => required.includes(key) || Array.isArray((properties[key] as JsonSchema | undefined)?.examples),
      );
      return Object.fromEntries(shown.map((key) => [key, exampleFor(properties[key], depth + 1)]));
    }
    case 'array': {
      const minItems = typeof s.minItems === 'number' ? s.minItems : 0;
      return Array.from({ length: minItems }, () => exampleFor(s.items, depth + 1));
    }
    case 'string':
      return stringExample(s);
    case 'integer':
    case 'number':
      return numberExample(s);
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return s.properties ? exampleFor({ ...s, type: 'object' }, depth + 1) : null;
  }
}
