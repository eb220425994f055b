/**
 * One helper for the spans we start around our own seams (carrier requests, Sheets requests, queue
 * work): the span is active while fn runs, records the error and ERROR status when fn throws, and
 * always ends.
 */
import {
  type Attributes,
  type Context,
  context,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { tracer, withService } from './tracer.js';

/** Re-exported so services name span kinds without depending on the OTel API package themselves. */
export { SpanKind };

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** The parent; default the active context. */
  parent?: Context;
  /** Spans this one relates to without being their child (the contributors to a batch). */
  links?: Link[];
  /**
   * The service the span belongs to, for work that may run outside any of its requests (a background
   * loop, in a process that runs several services); default the one the context names.
   */
  service?: string;
}

export async function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const base = options.parent ?? context.active();
  const parent = options.service ? withService(base, options.service) : base;
  const span = tracer(parent).startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes && { attributes: options.attributes }),
      ...(options.links && { links: options.links }),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks span failed with the error's message (and the error as an event). */
export function failSpan(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
