/**
 * Identifier quoting and the SQL fragments every phase shares. Table and column names come from the
 * catalog, not from users, but they are still quoted: a column named "user" or "order" must not break a copy.
 */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualified(schema: string, table: string): string {
  return `${ident(schema)}.${ident(table)}`;
}

/**
 * Session settings that make every value's text form the same on both servers, so text round-trips exactly
 * (it is how COPY moves data) and checksums of row text compare: UTC, ISO dates, every float digit, hex bytea.
 */
export const SESSION_SETTINGS = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'postgres'",
  'SET LOCAL extra_float_digits = 3',
  "SET LOCAL bytea_output = 'hex'",
] as const;

/** One JSON array of the columns' text forms per row: NULL stays JSON null, a jsonb 'null' stays the string "null". */
export function rowAsJsonText(columns: readonly string[], alias = 't'): string {
  return `json_build_array(${columns.map((c) => `${alias}.${ident(c)}::text`).join(', ')})::text`;
}

/** The row's text, column by column in the given order (by name, so physical column order may differ between servers). */
export function rowText(columns: readonly string[], alias = 't'): string {
  return `ROW(${columns.map((c) => `${alias}.${ident(c)}`).join(', ')})::text`;
}

/**
 * Whether a row's xmin (the transaction that wrote its current version) is at or after a watermark, in
 * PostgreSQL's circular 32-bit xid space. $n is the watermark modulo 2^32. xids 0–2 are special (frozen,
 * bootstrap) and always old. A very old frozen row may compare as "after" once xids wrap: it is then copied
 * again, which is harmless; a recent row is never missed.
 */
export function changedSince(param: string): string {
  return `(xmin::text::bigint >= 3 AND mod(xmin::text::bigint - ${param}::bigint + 4294967296, 4294967296) < 2147483648)`;
}

export const XID_MODULUS = 4294967296n;
