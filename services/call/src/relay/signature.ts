import twilio from 'twilio';
import { type RelayBinding, relayQuery } from './handshake.js';

/**
 * URLs Twilio is given for a call, all under PUBLIC_BASE_URL (the address Twilio reaches us at), and
 * the check of its signatures. Twilio signs the exact URL it requested (path and query) plus, for a
 * form POST, the sorted form parameters; the ConversationRelay handshake is a GET of the wss:// URL
 * from the TwiML, query included, signed the same way (X-Twilio-Signature on the upgrade request).
 */
export class TwilioUrls {
  constructor(
    private readonly base: () => string,
    private readonly authToken: string,
  ) {}

  get publicBaseUrl(): string {
    return this.base().replace(/\/$/, '');
  }

  /**
   * The relay WebSocket for one call, issued at `now`: ws(s) for http(s), its query binding the call and
   * an expiry so that Twilio's handshake signature is good for this call only, and only for a while.
   */
  relayUrl(binding: RelayBinding, now: Date): string {
    return `${this.publicBaseUrl.replace(/^http/, 'ws')}/twilio/relay${relayQuery(binding, now)}`;
  }

  /**
   * The path of a request relative to the public base: behind a proxy that keeps PUBLIC_BASE_URL's path
   * prefix, requests arrive with it; else without.
   */
  localPath(requestPath: string): string {
    const prefix = new URL(this.publicBaseUrl).pathname.replace(/\/$/, '');
    return prefix && requestPath.startsWith(`${prefix}/`) ? requestPath.slice(prefix.length) : requestPath;
  }

  /** Whether `signature` is Twilio's for this public URL (scheme `http` or `ws`) and these form parameters. */
  verify(signature: unknown, scheme: 'http' | 'ws', pathAndQuery: string, params: Record<string, string>): boolean {
    if (typeof signature !== 'string' || signature === '') return false;
    const base = scheme === 'ws' ? this.publicBaseUrl.replace(/^http/, 'ws') : this.publicBaseUrl;
    return twilio.validateRequest(this.authToken, signature, `${base}${pathAndQuery}`, params);
  }
}
