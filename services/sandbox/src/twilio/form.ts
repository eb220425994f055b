import type { IncomingMessage } from 'node:http';
import { TwilioError } from './errors.js';

/** Far above any real request (Twiml is capped at 4000 characters); stops a runaway client. */
const MAX_FORM_BYTES = 1 << 20;

/** The request's application/x-www-form-urlencoded body; repeated keys (StatusCallbackEvent) are kept. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new TwilioError(413, 20001, `Request body is larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A parameter's value; Twilio treats an empty value as absent. */
export function param(form: URLSearchParams, name: string): string | undefined {
  const value = form.get(name);
  return value === null || value === '' ? undefined : value;
}
