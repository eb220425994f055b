/**
 * A CLIENT span per statement, around the one Database interface every service uses (pg and PGlite
 * alike; instrumentation-pg would see only pg, and only when its require hook catches the import).
 * The statement text is recorded: our SQL is always parameterized, so it holds no values.
 * Only statements made inside a span are traced: background loops (the Sheets writer, the sweep, the
 * outbox) poll the database all the time, and a root trace per poll would bury the traces that matter
 * (instrumentation-pg's requireParentSpan, for the same reason).
 */
import { SpanKind, trace } from '@opentelemetry/api';
import type { Database, Queryable } from '../db/database.js';
import { inSpan } from './spans.js';
import { tracingEnabled } from './tracer.js';

/** "SELECT", "INSERT", … : the span's name; the full text goes in an attribute. */
function operationOf(sql: string): string {
  return /^\s*(?:--[^\n]*\n\s*)*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SQL';
}

function spanOptions(db: Database, sql: string) {
  const operation = operationOf(sql);
  return {
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system.name': 'postgresql',
      'db.operation.name': operation,
      'db.query.text': sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql,
      'callgate.db.engine': db.kind,
    },
  };
}

/** fn in a span named for the statement, when a span is active; fn alone otherwise. */
function traced<T>(db: Database, sql: string, fn: () => Promise<T>): Promise<T> {
  return trace.getActiveSpan() ? inSpan(operationOf(sql), spanOptions(db, sql), fn) : fn();
}

function tracedQueryable(db: Database, inner: Queryable): Queryable {
  return {
    query: (sql, params) => traced(db, sql, () => inner.query(sql, params)),
    exec: (sql) => traced(db, sql, () => inner.exec(sql)),
  };
}

/** db with a span per query; transactions get one span around them and one per statement inside. */
export function tracedDatabase(db: Database): Database {
  const queries = tracedQueryable(db, db);
  return {
    kind: db.kind,
    query: queries.query,
    exec: queries.exec,
    transaction: (fn, options) => {
      const run = () => db.transaction((tx) => fn(tracedQueryable(db, tx)), options);
      return trace.getActiveSpan()
        ? inSpan('transaction', { kind: SpanKind.INTERNAL, attributes: { 'db.system.name': 'postgresql' } }, run)
        : run();
    },
    listen: (channel, onPayload) => db.listen(channel, onPayload),
    notify: (channel, payload) => traced(db, 'NOTIFY', () => db.notify(channel, payload)),
    close: () => db.close(),
  };
}

/** tracedDatabase(db) while tracing is on; otherwise db itself, so an untraced process pays nothing per query. */
export function withQuerySpans(db: Database): Database {
  return tracingEnabled() ? tracedDatabase(db) : db;
}
