/**
 * A refused tool call as the console shows it: the gateway's message, and the same message keyed by
 * the argument it is about, so a form can put it beside the field. The gateway names the field two
 * ways: zod's issues (with their `path`) in the text of an input validation error, and `data.field`
 * on a JSON-RPC error from a backend's INVALID_ARGUMENT.
 */
export class ToolError extends Error {
  constructor(
    message: string,
    /** Message per top-level argument name (quietHours.start counts as quietHours.start and quietHours). */
    readonly fields: Record<string, string> = {},
    readonly code?: number,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

interface Issue {
  path?: unknown[];
  message?: string;
}

/** zod issues embedded in an SDK validation message ("... Invalid arguments for tool x: [ {...} ]"). */
function issuesIn(text: string): Issue[] {
  const start = text.indexOf('[');
  const end = text.lastIndexOf(']');
  if (start < 0 || end <= start) return [];
  try {
    const parsed: unknown = JSON.parse(text.slice(start, end + 1));
    return Array.isArray(parsed) ? parsed.filter((i): i is Issue => typeof i === 'object' && i !== null) : [];
  } catch {
    return [];
  }
}

export function fieldsOf(text: string, field?: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of issuesIn(text)) {
    const path = Array.isArray(issue.path) ? issue.path.map(String) : [];
    const message = issue.message ?? 'Invalid value';
    // Unknown keys are reported on the parent with the key names in `keys`.
    const keys = (issue as { keys?: unknown }).keys;
    const named = Array.isArray(keys) ? `${message}: ${keys.join(', ')}` : message;
    if (path.length === 0 && Array.isArray(keys)) for (const key of keys) fields[String(key)] ??= named;
    for (let depth = path.length; depth >= 1; depth--) fields[path.slice(0, depth).join('.')] ??= named;
  }
  if (typeof field === 'string' && field) fields[field] ??= text;
  return fields;
}

/** The readable part of an SDK validation message (the issues without their JSON). */
export function readable(text: string): string {
  const issues = issuesIn(text);
  if (issues.length === 0) return text;
  const head = text.slice(0, text.indexOf('[')).replace(/[:\s]+$/, '');
  const details = issues.map((i) => `${(i.path ?? []).join('.') || 'arguments'}: ${i.message ?? 'invalid'}`);
  return `${head}. ${details.join('; ')}`;
}

export function toToolError(error: unknown): ToolError {
  if (error instanceof ToolError) return error;
  const e = error as { message?: string; code?: number; data?: { field?: unknown } };
  const text = typeof e?.message === 'string' ? e.message : String(error);
  return new ToolError(readable(text), fieldsOf(text, e?.data?.field), e?.code);
}
