/**
 * What the relay URL's query binds. Twilio signs the exact URL it opens, so a URL that names the call
 * and an expiry makes every call's handshake signature different and short-lived: a captured handshake
 * opens no other call's socket, and none at all once it has expired.
 */

/**
 * How long a relay URL handed out by the voice webhook opens a socket. Twilio connects within seconds
 * of fetching the TwiML; five minutes leaves room for a slow carrier and for clocks that differ between
 * the replica that answered the webhook and the one the socket reaches, and no more.
 */
export const RELAY_URL_LIFETIME_SECONDS = 5 * 60;

/** The call a relay URL is for: our call id, and Twilio's CallSid when the voice webhook had it. */
export interface RelayBinding {
  callId: string;
  callSid?: string;
}

export type HandshakeCheck = ({ ok: true } & RelayBinding) | { ok: false; status: 401 | 403; reason: string };

const CALL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CALL_SID = /^CA[0-9a-f]{32}$/i;
const UNIX_SECONDS = /^\d{1,12}$/;

/** The query of a relay URL issued at `now`: `?call=<id>[&sid=<CallSid>]&exp=<unix seconds>`. */
export function relayQuery(binding: RelayBinding, now: Date): string {
  const exp = Math.floor(now.getTime() / 1000) + RELAY_URL_LIFETIME_SECONDS;
  const query = new URLSearchParams({ call: binding.callId });
  if (binding.callSid) query.set('sid', binding.callSid);
  query.set('exp', String(exp));
  return `?${query}`;
}

/**
 * Reads the binding of a relay URL whose signature has already been checked: 403 when it binds no call
 * (the unbound URL of old, whose signature is the same for every call), 401 once it has expired.
 */
export function readRelayQuery(query: URLSearchParams, now: Date): HandshakeCheck {
  const callId = query.get('call') ?? '';
  const callSid = query.get('sid');
  const exp = query.get('exp') ?? '';
  if (!CALL_ID.test(callId) || (callSid !== null && !CALL_SID.test(callSid)) || !UNIX_SECONDS.test(exp)) {
    return { ok: false, status: 403, reason: 'relay URL names no call and expiry' };
  }
  if (Math.floor(now.getTime() / 1000) > Number(exp)) {
    return { ok: false, status: 401, reason: 'relay URL expired' };
  }
  return { ok: true, callId, ...(callSid !== null && { callSid }) };
}

/** Why a setup message does not belong to the call its socket's URL was signed for, or undefined if it does. */
export function setupMismatch(binding: RelayBinding, setup: { callSid: string; callId: string | undefined }) {
  if (setup.callId !== binding.callId) return 'setup names another call than the signed relay URL';
  if (binding.callSid !== undefined && setup.callSid !== binding.callSid) {
    return 'setup comes from another carrier call than the signed relay URL';
  }
  return undefined;
}
