import { randomBytes } from 'node:crypto';
import { createRequestStateCodec, type RequestStateCodec } from '@modelcontextprotocol/server';

export type RequestStates = RequestStateCodec<Record<string, unknown>>;

/**
 * Seals the state a multi-round tool call (2026-07-28 `input_required`) hands the client to echo back:
 * HMAC-signed, expiring, and bound to the user, so a client can neither alter it nor replay another
 * user's. The SDK checks it before any handler runs and answers a bad one with -32602.
 */
export function requestStateCodec(secret: string | undefined): RequestStates {
  return createRequestStateCodec<Record<string, unknown>>({
    key: secret ?? randomBytes(32),
    ttlSeconds: 600,
    bind: (ctx) => {
      const userId = ctx.http?.authInfo?.extra?.userId;
      return `${ctx.mcpReq.method}\u0000${typeof userId === 'string' ? userId : ''}`;
    },
  });
}
