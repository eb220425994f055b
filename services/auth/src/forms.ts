import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest form body any page posts (a few fields); larger ones get 413 before they are read in full. */
export const MAX_FORM_BYTES = 16 * 1024;

export class FormError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads an application/x-www-form-urlencoded body: at most MAX_FORM_BYTES, each field once, no NUL
 * bytes or other control characters (they have no place in an email or password and confuse logs
 * and databases).
 */
export async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new FormError(415, 'expected a form post');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_FORM_BYTES) throw new FormError(413, 'the form is too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new FormError(413, 'the form is too large');
    chunks.push(chunk);
  }
  const fields: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    if (key in fields) throw new FormError(400, `the field ${key.slice(0, 40)} is given twice`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) {
      throw new FormError(400, `the field ${key.slice(0, 40)} holds a control character`);
    }
    fields[key] = value;
  }
  return fields;
}

/**
 * Security headers of every page: no framing (clickjacking on consent), nothing loaded from elsewhere.
 * No form-action: Chromium applies it to the redirects after a post, and consent ends in a redirect to the client.
 */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

export function sendPage(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, PAGE_HEADERS).end(body);
}
