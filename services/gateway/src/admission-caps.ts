import type { ServerResponse } from 'node:http';
import { ConfigError } from '@callgate/common';
import type { GatewayConfig } from './config.js';

/**
 * JSON-RPC error code of a connection, session or stream refused because the user holds as many as
 * they may (HTTP 429). In the range the 2026-07-28 revision keeps for implementations' existing use.
 */
export const CAP_REACHED = -32000;

/** A place held for one user until released; releasing twice gives back one place. */
export interface Slot {
  release(): void;
}

/**
 * How many of something (open WebSockets, listen streams) each user holds, counted when a place is
 * taken, synchronously, before the slow work of opening it: concurrent requests cannot all see room.
 */
export class UserSlots {
  private readonly held = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** A place for userId, or undefined when they hold `limit` already. */
  reserve(userId: string): Slot | undefined {
    const count = this.held.get(userId) ?? 0;
    if (count >= this.limit) return undefined;
    this.held.set(userId, count + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.held.get(userId) ?? 1) - 1;
        if (left > 0) this.held.set(userId, left);
        else this.held.delete(userId);
      },
    };
  }

  /** Places userId holds. */
  count(userId: string): number {
    return this.held.get(userId) ?? 0;
  }
}

/** The JSON-RPC error that refuses one more of `what` to a user holding `limit` of them. */
export function capReached(what: string, limit: number, advice: string) {
  return {
    code: CAP_REACHED,
    message: `Too many ${what}: a user may have at most ${limit} open at once; ${advice}`,
    data: { limit },
  };
}

/** Answers an HTTP request refused by a cap: 429 with the JSON-RPC error (no Retry-After: it is not a rate). */
export function sendCapReached(res: ServerResponse, id: unknown, error: ReturnType<typeof capReached>): void {
  const rpcId = typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
  res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: rpcId, error }));
}

export interface AdmissionCaps {
  websocketsPerUser: number;
  listenStreamsPerUser: number;
  listenStreams: number;
}

/** The caps from the configuration; a per-user listen cap above the replica's is a ConfigError. */
export function admissionCaps(
  config: Pick<
    GatewayConfig,
    'MCP_MAX_WEBSOCKETS_PER_USER' | 'MCP_MAX_LISTEN_STREAMS_PER_USER' | 'MCP_MAX_LISTEN_STREAMS'
  >,
): AdmissionCaps {
  if (config.MCP_MAX_LISTEN_STREAMS_PER_USER > config.MCP_MAX_LISTEN_STREAMS) {
    throw new ConfigError('gateway', [
      {
        variable: 'MCP_MAX_LISTEN_STREAMS_PER_USER',
        message: `${config.MCP_MAX_LISTEN_STREAMS_PER_USER} is more than MCP_MAX_LISTEN_STREAMS (${config.MCP_MAX_LISTEN_STREAMS}), the replica's total; lower it`,
      },
    ]);
  }
  return {
    websocketsPerUser: config.MCP_MAX_WEBSOCKETS_PER_USER,
    listenStreamsPerUser: config.MCP_MAX_LISTEN_STREAMS_PER_USER,
    listenStreams: config.MCP_MAX_LISTEN_STREAMS,
  };
}
