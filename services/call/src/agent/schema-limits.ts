/**
 * Bounds of a user's outcome schema. Ajv turns a schema into code and regexes on the shared event loop
 * (at makePhoneCall and again when the call connects), so what one user sends must cost little to
 * compile; a phone call learns a handful of facts, far below these.
 */
export const OUTCOME_SCHEMA_LIMITS = {
  /** Characters of the schema as JSON. */
  maxLength: 16_384,
  /** Nesting of objects and arrays, the schema object itself being level 1. */
  maxDepth: 8,
  /** Fields in the top-level `properties`. */
  maxFields: 50,
  /** Regexes the schema compiles: `pattern` values and `patternProperties` keys. */
  maxPatterns: 20,
  /** Characters of one regex. */
  maxPatternLength: 500,
} as const;

/** What in a schema is over a bound, said so a person can fix it; undefined when within every bound. */
export function outcomeSchemaOverLimit(json: string): string | undefined {
  const limits = OUTCOME_SCHEMA_LIMITS;
  if (json.length > limits.maxLength) {
    return `is ${json.length} characters of JSON; at most ${limits.maxLength} are allowed`;
  }
  return undefined;
}

/** The same, for the parsed schema: walked without recursion, so depth itself cannot overflow the stack. */
export function parsedOutcomeSchemaOverLimit(schema: Record<string, unknown>): string | undefined {
  const limits = OUTCOME_SCHEMA_LIMITS;
  const properties = schema.properties;
  if (properties && typeof properties === 'object' && Object.keys(properties).length > limits.maxFields) {
    return `has ${Object.keys(properties).length} fields in "properties"; at most ${limits.maxFields} are allowed`;
  }
  let patterns = 0;
  const stack: Array<{ value: unknown; depth: number; key: string | undefined; parentKey: string | undefined }> = [
    { value: schema, depth: 1, key: undefined, parentKey: undefined },
  ];
  while (stack.length > 0) {
    const { value, depth, key, parentKey } = stack.pop() as (typeof stack)[number];
    const regex =
      key === 'pattern' && typeof value === 'string'
        ? value
        : parentKey === 'patternProperties' && key !== undefined
          ? key
          : undefined;
    if (regex !== undefined) {
      patterns += 1;
      if (patterns > limits.maxPatterns)
        return `has more than ${limits.maxPatterns} patterns; at most ${limits.maxPatterns} are allowed`;
      if (regex.length > limits.maxPatternLength) {
        return `has a pattern of ${regex.length} characters; at most ${limits.maxPatternLength} are allowed`;
      }
    }
    if (!value || typeof value !== 'object') continue;
    if (depth > limits.maxDepth)
      return `is nested more than ${limits.maxDepth} levels deep; at most ${limits.maxDepth} are allowed`;
    for (const [childKey, child] of Object.entries(value)) {
      stack.push({ value: child, depth: depth + 1, key: childKey, parentKey: Array.isArray(value) ? parentKey : key });
    }
  }
  return undefined;
}
