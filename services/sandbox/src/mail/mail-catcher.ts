import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CaughtMail {
  messageId: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  receivedAt: string;
}

const MAX_BODY_BYTES = 256 * 1024;
const MAX_KEPT = 500;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The sandbox plays Amazon SES (API v2 SendEmail, POST /v2/email/outbound-emails) for local runs:
 * the auth service sends account mail with the real AWS SDK, and the mail lands here. /mail shows
 * what was sent (newest first), /sandbox/mail gives it as JSON for tests.
 */
export class MailCatcher {
  private readonly mails: CaughtMail[] = [];
  private next = 1;

  get all(): readonly CaughtMail[] {
    return this.mails;
  }

  async serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/v2/email/outbound-emails' && req.method === 'POST') return this.send(req, res);
    if (path === '/sandbox/mail' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ mails: this.mails }));
      return;
    }
    if (path === '/mail' && req.method === 'GET') {
      const items = [...this.mails]
        .reverse()
        .map(
          (m) =>
            `<article><h2>${escapeHtml(m.subject)}</h2><p>To ${escapeHtml(m.to.join(', '))} · from ${escapeHtml(m.from)} · ${escapeHtml(m.receivedAt)}</p><pre>${escapeHtml(m.text)}</pre></article>`,
        )
        .join('');
      res
        .writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
        })
        .end(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mail sent · callgate sandbox</title><style>body{font:15px system-ui;max-width:48rem;margin:2rem auto}pre{white-space:pre-wrap;background:#f4f4f4;padding:.75rem}</style></head><body><h1>Mail sent by callgate (${this.mails.length})</h1>${items || '<p>Nothing yet.</p>'}</body></html>`,
        );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"not found"}');
  }

  private async send(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refuse = (status: number, message: string): void => {
      res
        .writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': 'BadRequestException' })
        .end(JSON.stringify({ message }));
    };
    if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256 ')) return refuse(403, 'missing AWS signature');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return refuse(400, 'message too large');
      chunks.push(chunk);
    }
    let body: {
      FromEmailAddress?: string;
      Destination?: { ToAddresses?: string[] };
      Content?: { Simple?: { Subject?: { Data?: string }; Body?: { Text?: { Data?: string } } } };
    };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return refuse(400, 'body is not JSON');
    }
    const to = body.Destination?.ToAddresses ?? [];
    const simple = body.Content?.Simple;
    if (!body.FromEmailAddress || to.length === 0 || !simple?.Subject?.Data) {
      return refuse(400, 'FromEmailAddress, Destination.ToAddresses and Content.Simple.Subject are required');
    }
    const messageId = `sandbox-${this.next++}`;
    this.mails.push({
      messageId,
      from: body.FromEmailAddress,
      to,
      subject: simple.Subject.Data,
      text: simple.Body?.Text?.Data ?? '',
      receivedAt: new Date().toISOString(),
    });
    if (this.mails.length > MAX_KEPT) this.mails.shift();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ MessageId: messageId }));
  }
}
