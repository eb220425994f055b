/**
 * The outcome-fields builder: named fields with a type and a description, turned into the JSON Schema
 * makePhoneCall takes as outcomeSchema (an object of those properties, the marked ones required).
 */
export interface OutcomeField {
  key: number;
  name: string;
  type: 'string' | 'number' | 'integer' | 'boolean';
  description: string;
  required: boolean;
}

export function outcomeSchemaOf(fields: OutcomeField[]): Record<string, unknown> | undefined {
  const named = fields.filter((f) => f.name.trim());
  if (named.length === 0) return undefined;
  return {
    type: 'object',
    properties: Object.fromEntries(
      named.map((f) => [
        f.name.trim(),
        { type: f.type, ...(f.description.trim() ? { description: f.description.trim() } : {}) },
      ]),
    ),
    required: named.filter((f) => f.required).map((f) => f.name.trim()),
  };
}

let nextKey = 1;
export const newField = (): OutcomeField => ({
  key: nextKey++,
  name: '',
  type: 'string',
  description: '',
  required: true,
});

export function OutcomeFieldsBuilder({
  fields,
  onChange,
  error,
}: {
  fields: OutcomeField[];
  onChange: (fields: OutcomeField[]) => void;
  error?: string;
}) {
  const update = (key: number, patch: Partial<OutcomeField>) =>
    onChange(fields.map((f) => (f.key === key ? { ...f, ...patch } : f)));
  return (
    <fieldset className="outcome-builder" aria-describedby={error ? 'outcome-error' : undefined}>
      <legend>What the call should learn (outcome fields)</legend>
      {fields.length === 0 && <p className="muted">No fields: the call ends with a summary only.</p>}
      {fields.map((field, index) => (
        <div key={field.key} className="outcome-row">
          <div className="field">
            <label htmlFor={`of-name-${field.key}`}>Field {index + 1} name</label>
            <input
              id={`of-name-${field.key}`}
              value={field.name}
              maxLength={64}
              onChange={(e) => update(field.key, { name: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`of-type-${field.key}`}>Type</label>
            <select
              id={`of-type-${field.key}`}
              value={field.type}
              onChange={(e) => update(field.key, { type: e.target.value as OutcomeField['type'] })}
            >
              <option value="string">text</option>
              <option value="number">number</option>
              <option value="integer">whole number</option>
              <option value="boolean">yes/no</option>
            </select>
          </div>
          <div className="field grow">
            <label htmlFor={`of-desc-${field.key}`}>Description</label>
            <input
              id={`of-desc-${field.key}`}
              value={field.description}
              maxLength={500}
              onChange={(e) => update(field.key, { description: e.target.value })}
            />
          </div>
          <label className="check">
            <input
              type="checkbox"
              checked={field.required}
              onChange={(e) => update(field.key, { required: e.target.checked })}
            />
            Required
          </label>
          <button
            type="button"
            onClick={() => onChange(fields.filter((f) => f.key !== field.key))}
            aria-label={`Remove field ${index + 1}${field.name ? ` (${field.name})` : ''}`}
          >
            Remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...fields, newField()])}>
        Add a field
      </button>
      {error && (
        <small id="outcome-error" className="field-error" role="alert">
          {error}
        </small>
      )}
    </fieldset>
  );
}
