import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@callgate/common';
import type { MailCatcher } from './mail/mail-catcher.js';
import type { SheetsSandbox } from './sheets/sheets-api.js';
import { authenticatedAccount, type Credentials } from './twilio/auth.js';
import type { CallsApi, Reply } from './twilio/calls.js';
import { authenticate, internalError, isTwilioError, methodNotAllowed, resourceNotFound } from './twilio/errors.js';
import { readForm } from './twilio/form.js';
import type { SandboxRecordings } from './twilio/recordings.js';

export interface SandboxAppOptions {
  /** The account the Twilio stand-in serves; requests must authenticate as it. */
  credentials: Credentials;
  calls: CallsApi;
  log: Logger;
  /** The Google Sheets stand-in; without it Sheets paths answer 404 as for an unknown spreadsheet. */
  sheets?: SheetsSandbox;
  /** The SES stand-in and mail catcher page; without it those paths answer 404. */
  mail?: MailCatcher;
  /** Twilio's Recordings API and its fault switch; without it those paths answer 404. */
  recordings?: SandboxRecordings;
}

const ACCOUNT = /^\/2010-04-01\/Accounts\/([^/]+?)(?:\.json$|\/)/;
const CALLS = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\.json$/;
const CALL = /^\/2010-04-01\/Accounts\/([^/]+)\/Calls\/([^/]+)\.json$/;
const PERSON_ACTS = /^\/sandbox\/(calls|numbers)\/([^/]+)\/(answer|hang-up)$/;

/**
 * The sandbox plays Twilio (REST under /2010-04-01) and Google Sheets (under /v4/spreadsheets) for
 * local runs and tests. Twilio's Calls endpoints are served by the carrier stand-in; every other path
 * gets the error each real API gives for an unknown resource, in that API's own error shape.
 */
export function createSandboxApp(options: SandboxAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (url.pathname === '/healthz') {
      json(res, 200, { status: 'ok' });
    } else if (url.pathname.startsWith('/2010-04-01/')) {
      void serveTwilio(req, res, url.pathname, options);
    } else if (url.pathname === '/sandbox/recordings/media-faults' && options.recordings) {
      // The next n recording audio requests fail (500): POST {"count": n}. Sandbox-only, for retry tests.
      void setMediaFaults(req, res, options.recordings);
    } else if (url.pathname.startsWith('/sandbox/calls/') || url.pathname.startsWith('/sandbox/numbers/')) {
      // The person called, for calls to the held number (…0006): POST /sandbox/calls/{sid}/answer|hang-up,
      // or /sandbox/numbers/{to}/answer|hang-up for every live call to that number.
      const acts = PERSON_ACTS.exec(url.pathname);
      const target = acts?.[2] === undefined ? undefined : decodedSegment(acts[2]);
      if (!acts?.[2] || !acts[3]) {
        json(res, 404, {
          error: 'not found: POST /sandbox/calls/{sid}/answer|hang-up or /sandbox/numbers/{to}/answer|hang-up',
        });
      } else if (req.method !== 'POST') {
        json(res, 405, { error: `${req.method} not allowed: POST` });
      } else if (target === undefined) {
        // decodeURIComponent throws on a malformed %-escape: out of this listener, it would end the process.
        json(res, 400, { error: `not a valid %-encoded ${acts[1] === 'calls' ? 'call sid' : 'number'}: ${acts[2]}` });
      } else {
        const action = acts[3] as 'answer' | 'hang-up';
        const reply =
          acts[1] === 'calls'
            ? options.calls.personActs(target, action)
            : options.calls.personActsOnNumber(target, action);
        json(res, reply.status, reply.body);
      }
    } else if (url.pathname.startsWith('/v4/spreadsheets') && options.sheets) {
      void options.sheets.serve(req, res, url);
    } else if (url.pathname.startsWith('/sandbox/sheets/') && options.sheets) {
      void options.sheets.serveAdmin(req, res, url.pathname);
    } else if (
      options.mail &&
      (url.pathname === '/v2/email/outbound-emails' || url.pathname === '/mail' || url.pathname === '/sandbox/mail')
    ) {
      void options.mail.serve(req, res, url.pathname);
    } else if (url.pathname.startsWith('/v4/spreadsheets')) {
      json(res, 404, {
        error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' },
      });
    } else {
      json(res, 404, { error: 'not found' });
    }
  };
}

/** A path segment %-decoded, or undefined when its %-escapes are malformed. */
function decodedSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Never rejects: every failure becomes a Twilio-shaped error response. */
async function serveTwilio(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  { credentials, calls, log, recordings }: SandboxAppOptions,
): Promise<void> {
  try {
    const account = authenticatedAccount(req.headers.authorization, credentials);
    // Credentials are good only for their own account: another account's path is refused like bad ones.
    if (!account || (ACCOUNT.exec(path)?.[1] ?? account) !== account) throw authenticate();
    if (recordings?.handles(path)) {
      recordings.serve(req, res, path);
      return;
    }
    const reply = await route(req, path, calls);
    json(res, reply.status, reply.body, TWILIO_JSON);
  } catch (error) {
    if (!isTwilioError(error)) log.error({ err: error, path }, 'Twilio stand-in failed');
    const failure = isTwilioError(error) ? error : internalError();
    if (!res.headersSent) json(res, failure.status, failure.toJSON(), { ...TWILIO_JSON, ...failure.headers });
  }
}

async function route(req: IncomingMessage, path: string, calls: CallsApi): Promise<Reply> {
  const method = req.method ?? 'GET';
  const list = CALLS.exec(path);
  if (list?.[1]) {
    if (method === 'POST') return calls.create(list[1], await readForm(req));
    throw methodNotAllowed(method);
  }
  const one = CALL.exec(path);
  if (one?.[1] && one[2]) {
    if (method === 'GET') return calls.fetch(one[1], one[2]);
    if (method === 'POST') return calls.update(one[1], one[2], await readForm(req));
    throw methodNotAllowed(method);
  }
  throw resourceNotFound(path);
}

const TWILIO_JSON = { 'content-type': 'application/json; charset=utf-8' };

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): void {
  res.writeHead(status, headers).end(JSON.stringify(body));
}

async function setMediaFaults(req: IncomingMessage, res: ServerResponse, recordings: SandboxRecordings): Promise<void> {
  if (req.method !== 'POST') return json(res, 405, { error: `${req.method} not allowed: POST` });
  let body = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > 1024) return json(res, 413, { error: 'body too large' });
  }
  let count: unknown;
  try {
    count = (JSON.parse(body || '{}') as { count?: unknown }).count;
  } catch {
    return json(res, 400, { error: 'a JSON body {"count": n} is expected' });
  }
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0 || count > 1000) {
    return json(res, 400, { error: 'count must be a whole number from 0 to 1000' });
  }
  recordings.failNextMedia(count);
  json(res, 200, { count });
}
