import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The sandbox plays Twilio (REST under /2010-04-01) and Google Sheets (under /v4/spreadsheets) for
 * local runs and tests. In this first version it answers every API path with the error each real API
 * would give for an unknown resource, in that API's own error shape; the carrier and the sheet arrive
 * with the calls and sheets-sync issues.
 */
export function handleSandboxRequest(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  if (url.pathname === '/healthz') {
    json(res, 200, { status: 'ok' });
  } else if (url.pathname.startsWith('/2010-04-01/')) {
    json(res, 404, {
      code: 20404,
      message: `The requested resource ${url.pathname} was not found`,
      more_info: 'https://www.twilio.com/docs/errors/20404',
      status: 404,
    });
  } else if (url.pathname.startsWith('/v4/spreadsheets')) {
    json(res, 404, {
      error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' },
    });
  } else {
    json(res, 404, { error: 'not found' });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
