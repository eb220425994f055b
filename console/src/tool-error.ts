/**
 * A refused tool call as the console shows it: the gateway's message, and the same message keyed by
 * the argument it is about, so a form can put it beside the field. The gateway names the field in
 * the text: the SDK's input validation joins zod's issues as "path: message, path: message" after
 * "Invalid arguments for tool <name>: ", and the backends' refusals read "field: message"; a JSON-RPC
 * error from a backend's INVALID_ARGUMENT may carry it as data.field.
 */
export class ToolError extends Error {
  constructor(
    message: string,
    /** Message per argument path ("maxCallDurationSeconds", "quietHours.start"; a nested one also under its parent). */
    readonly fields: Record<string, string> = {},
    readonly code?: number,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

const PREFIX = /^(?:Input validation error: )?Invalid arguments for tool [\w.-]+: /;
const ISSUE = /^([A-Za-z_]\w*(?:\.\w+)*): (.+)$/s;

export function fieldsOf(text: string, field?: unknown): Record<string, string> {
  // No prototype: an argument named __proto__ is just a key.
  const fields: Record<string, string> = Object.create(null);
  const body = text.replace(/^MCP error -?\d+: /, '').replace(PREFIX, '');
  // Issues are joined with ", "; a comma inside a message is not followed by "path: ".
  for (const part of body.split(/, (?=[A-Za-z_]\w*(?:\.\w+)*: )/)) {
    const match = ISSUE.exec(part.trim());
    if (!match) continue;
    const [, path = '', message = ''] = match;
    const segments = path.split('.');
    for (let depth = segments.length; depth >= 1; depth--) fields[segments.slice(0, depth).join('.')] ??= message;
  }
  if (typeof field === 'string' && field) fields[field] ??= body;
  return fields;
}

export function toToolError(error: unknown): ToolError {
  if (error instanceof ToolError) return error;
  const e = error as { message?: string; code?: number; data?: { field?: unknown } };
  const text = typeof e?.message === 'string' ? e.message : String(error);
  return new ToolError(text.replace(/^MCP error -?\d+: /, ''), fieldsOf(text, e?.data?.field), e?.code);
}
