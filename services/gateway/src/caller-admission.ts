import type { IncomingMessage } from 'node:http';
import type { Logger } from '@callgate/common';
import { type AuthInfo, validateOriginHeader } from '@modelcontextprotocol/server';
import { AuthError, AuthUnavailableError, authenticate, type TokenSettings } from './auth.js';

/** Why a caller was turned away: the HTTP status, a message for the client, and headers to send. */
export interface CallerRefusal {
  status: number;
  message: string;
  headers: Record<string, string>;
}

export type CallerAdmission = { auth: AuthInfo } | CallerRefusal;

/**
 * Who may use /mcp, asked the same way for an HTTP request and a WebSocket upgrade: 403 for a browser
 * Origin outside the allow-list (DNS-rebinding protection, checked before any credential), 401 for
 * missing or bad credentials, 503 when the issuer's keys cannot be fetched (the client is not at fault:
 * it retries); else the caller's verified token.
 */
export function callerAdmission(options: {
  allowedOriginHosts: string[];
  tokens: TokenSettings;
  /** Named in a 401's challenge, so the client finds where to sign in. */
  resourceMetadataUrl: () => string;
  log: Logger;
}): (req: IncomingMessage) => Promise<CallerAdmission> {
  return async (req): Promise<CallerAdmission> => {
    const origin = validateOriginHeader(req.headers.origin, options.allowedOriginHosts);
    if (!origin.ok) return { status: 403, message: `Forbidden: ${origin.message}`, headers: {} };
    try {
      return { auth: await authenticate(req.headers.authorization, options.tokens, options.resourceMetadataUrl()) };
    } catch (error) {
      if (error instanceof AuthUnavailableError) {
        options.log.warn({ err: error.cause }, 'authentication unavailable: the JWKS cannot be fetched');
        return {
          status: 503,
          message: 'Service Unavailable: authentication is temporarily unavailable; retry shortly',
          headers: { 'retry-after': '5' },
        };
      }
      if (!(error instanceof AuthError)) throw error;
      return {
        status: 401,
        message: `Unauthorized: ${error.message}`,
        headers: { 'www-authenticate': error.challenge },
      };
    }
  };
}
