import { type Logger, pino } from 'pino';
import { maskLogLine } from './log-masking.js';
import { currentRequestId } from './request-context.js';
import { traceLogFields } from './tracing/log-fields.js';

export type { Logger } from 'pino';

/** Paths that may carry secrets; pino replaces them before anything is written. */
const REDACT = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'token',
  'password',
  'secret',
  '*.token',
  '*.password',
  '*.secret',
  '*.authToken',
  '*.accessToken',
  '*.refreshToken',
  '*.apiKey',
  '*.privateKey',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-twilio-signature"]',
  'config.JWT_SECRET',
  'config.TWILIO_AUTH_TOKEN',
  'config.DATABASE_URL',
  'config.REDIS_URL',
];

/** One JSON logger per service; the service name (and the request id, while serving one) is on every line. */
export function createLogger(service: string, level = 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Every line written while serving a request names it, whichever logger (or child) wrote it,
    // and, while a span is active, its trace and span ids (to jump from a log line to its trace).
    mixin: () => {
      const requestId = currentRequestId();
      const trace = traceLogFields();
      return requestId ? { requestId, ...trace } : (trace ?? {});
    },
    // Phone numbers and tokens inside messages, errors and nested fields, which paths cannot name.
    hooks: { streamWrite: maskLogLine },
  };
  // Standard output unless told otherwise (tests capture lines to prove what is and is not written).
  return destination ? pino(options, destination) : pino(options);
}
