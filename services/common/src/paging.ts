import { invalidArgument } from './errors.js';

/** Page size from a request: 0 means the default; anything outside 1..max is refused, never clamped silently. */
export function pageSize(requested: number, options: { fallback?: number; max?: number } = {}): number {
  const max = options.max ?? 100;
  if (requested === 0) return options.fallback ?? 20;
  if (!Number.isInteger(requested) || requested < 1 || requested > max) {
    throw invalidArgument('pageSize', `must be between 1 and ${max} (0 for the default), got ${requested}`);
  }
  return requested;
}

/** An opaque cursor: base64url JSON, so clients cannot depend on its inside. */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** Decodes a cursor made by encodeCursor; a token that is not one is INVALID_ARGUMENT. */
export function decodeCursor<K extends string>(
  token: string,
  keys: readonly K[],
): Record<K, string | number> | undefined {
  if (!token) return undefined;
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (
      value &&
      typeof value === 'object' &&
      keys.every((k) => typeof value[k] === 'string' || typeof value[k] === 'number')
    ) {
      return value as Record<K, string | number>;
    }
  } catch {
    // fall through to the error below
  }
  throw invalidArgument('pageToken', 'not a page token from a previous response; start without one');
}

/** An RFC 3339 timestamp bound, or undefined when empty. */
export function timeBound(field: string, value: string): Date | undefined {
  if (!value) return undefined;
  const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
  const time = Date.parse(value);
  if (!rfc3339.test(value) || Number.isNaN(time)) {
    throw invalidArgument(
      field,
      `expected an RFC 3339 time such as 2026-01-31T00:00:00Z, got ${JSON.stringify(value)}`,
    );
  }
  return new Date(time);
}
