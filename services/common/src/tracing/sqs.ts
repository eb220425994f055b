/**
 * Trace context across the call-status queue: the sender writes `traceparent`/`tracestate` as String
 * message attributes (the body stays the documented PollMessage), the consumer reads them back and
 * processes the message in a CONSUMER span that continues the sender's trace, so one makePhoneCall's
 * trace shows its status poll too. (A batch holds messages of different traces; each message gets its
 * own span with its own parent, which is why this is per message and not per receive.)
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { type Context, context, SpanKind, trace } from '@opentelemetry/api';
import { contextFromHeaders, traceHeaders } from './propagation.js';
import { inSpan } from './spans.js';
import { withService } from './tracer.js';

/**
 * attributes plus the active trace context; undefined when that leaves nothing, so an untraced send
 * is exactly what it was without tracing (no empty MessageAttributes map on the wire).
 */
export function withTraceAttributes(
  attributes: Record<string, MessageAttributeValue> = {},
  ctx: Context = context.active(),
): Record<string, MessageAttributeValue> | undefined {
  const out = { ...attributes };
  for (const [key, value] of Object.entries(traceHeaders(ctx))) out[key] = { DataType: 'String', StringValue: value };
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The sender's context read from a received message's attributes (base when absent). */
export function contextFromAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
  base: Context = context.active(),
): Context {
  const fields: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(attributes ?? {})) fields[key] = value.StringValue;
  return contextFromHeaders(fields, base);
}

/** The queue's name, the last segment of its URL: the messaging spans' destination. */
export function queueNameOf(queueUrl: string): string {
  return queueUrl.replace(/\/+$/, '').split('/').pop() || queueUrl;
}

/** A PRODUCER span around a send; its context is what withTraceAttributes writes when called inside. */
export function inSendSpan<T>(queue: string, fn: () => Promise<T>): Promise<T> {
  return inSpan(
    `${queue} send`,
    { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'aws_sqs', 'messaging.destination.name': queue } },
    fn,
  );
}

/** Processes one received message in a CONSUMER span, child of the sender's span, as work of `service`. */
export function inProcessSpan<T>(
  service: string,
  queue: string,
  message: { MessageId?: string | undefined; MessageAttributes?: Record<string, MessageAttributeValue> | undefined },
  fn: () => Promise<T>,
): Promise<T> {
  // Received in the receive loop's context: only the message's own trace is the parent, never another message's.
  const base = trace.deleteSpan(context.active());
  return inSpan(
    `${queue} process`,
    {
      kind: SpanKind.CONSUMER,
      parent: withService(contextFromAttributes(message.MessageAttributes, base), service),
      attributes: {
        'messaging.system': 'aws_sqs',
        'messaging.destination.name': queue,
        'messaging.operation.type': 'process',
        ...(message.MessageId && { 'messaging.message.id': message.MessageId }),
      },
    },
    fn,
  );
}
