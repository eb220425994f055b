/**
 * Twilio's REST errors, in Twilio's own body shape, so that the `twilio` client raises the same
 * RestException (status, code, message, moreInfo) against the sandbox as against api.twilio.com.
 */
export class TwilioError extends Error {
  override readonly name = 'TwilioError';
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    /** Extra response headers, e.g. the Basic challenge of a 401. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  toJSON(): { code: number; message: string; more_info: string; status: number } {
    return {
      code: this.code,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.code}`,
      status: this.status,
    };
  }
}

export const isTwilioError = (e: unknown): e is TwilioError => e instanceof TwilioError;

/** 20003: wrong or missing credentials. Twilio says only "Authenticate", whatever was wrong. */
export const authenticate = () =>
  new TwilioError(401, 20003, 'Authenticate', { 'www-authenticate': 'Basic realm="Twilio API"' });

/** 20404: Twilio names the path, not the kind of thing missing. */
export const resourceNotFound = (path: string) =>
  new TwilioError(404, 20404, `The requested resource ${path} was not found`);

export const methodNotAllowed = (method: string) => new TwilioError(405, 20004, `Method not allowed: ${method}`);

/**
 * A parameter with a value Twilio would refuse and for which Twilio has no dedicated code that we
 * know of; 20001 is Twilio's generic "invalid parameter".
 */
export const invalidParameter = (name: string, message: string) => new TwilioError(400, 20001, `${name}: ${message}`);

export const missingTo = () => new TwilioError(400, 21201, "No 'To' number is specified");
export const missingFrom = () => new TwilioError(400, 21213, "No 'From' number is specified");
export const missingUrl = () =>
  new TwilioError(
    400,
    21205,
    'Url parameter is required. For more information, see http://www.twilio.com/docs/api/twiml',
  );
export const invalidUrl = (url: string) => new TwilioError(400, 21205, `Url is not a valid URL: ${url}`);
export const invalidTo = (to: string) =>
  new TwilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
export const invalidFrom = (from: string) =>
  new TwilioError(400, 21212, `The 'From' number ${from} is not a valid phone number.`);
export const invalidApplicationSid = () => new TwilioError(400, 21218, 'Invalid ApplicationSid');
export const invalidStatusCallback = (message: string) =>
  new TwilioError(400, 21609, `Invalid 'StatusCallback': ${message}`);
export const invalidStatusCallbackEvent = () =>
  new TwilioError(400, 21626, 'One or more of the StatusCallbackEvents provided were invalid.');
export const notInProgress = () => new TwilioError(400, 21220, 'Call is not in-progress. Cannot redirect.');
export const internalError = () => new TwilioError(500, 20500, 'An internal server error has occurred');
