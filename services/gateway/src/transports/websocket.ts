import { randomUUID } from 'node:crypto';
import { type Clock, inMessageSpan, type MessageSpan, systemClock } from '@callgate/common';
import {
  type AuthInfo,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
  type ScopeChallengeHandler,
  type Transport,
} from '@modelcontextprotocol/server';
import type { WebSocket } from 'ws';
import {
  answersOwed,
  type Checked,
  checkJsonRpc,
  errorAnswer,
  INVALID_REQUEST,
  isAnswered,
  type JsonRpcErrorBody,
  revisionHasBatches,
} from './jsonrpc-check.js';

export interface WebSocketTransportOptions {
  /** Above this many bytes queued for the client, stop reading its frames until the queue drains. */
  highWaterBytes?: number;
  /**
   * Requests this connection may have in flight at once (unanswered, or cancelled while the server still
   * works on them); more are refused with -32000. Default 32.
   */
  maxInFlight?: number;
  /** Seconds of tolerance after the token's exp before the connection is closed. */
  clockToleranceSeconds?: number;
  /** Reads the time the token's expiry is checked against at each frame. Default: the system's. */
  clock?: Clock;
  /** Called for every frame received (keeps the session from being swept as idle). */
  onActivity?: () => void;
  /**
   * Asked once per frame, before anything in it is served (per-user rate limits): `messages` are the
   * frame's valid messages, `answers` how many answers the frame is owed (requests and refused entries,
   * so a batch pays for every entry it makes the gateway answer). An error it returns answers each of
   * them instead, and the connection stays open. A failure refuses them (-32603).
   */
  admit?: (
    messages: JSONRPCMessage[],
    answers: number,
  ) => Promise<{ code: number; message: string; data?: unknown } | undefined>;
}

/** JSON-RPC error for a request the token's scopes do not allow (HTTP answers 403 instead). */
export const INSUFFICIENT_SCOPE = -32003;

/** Close codes this transport uses (RFC 6455 §7.4). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
} as const;

/**
 * MCP over one WebSocket: one JSON-RPC message per text frame, in both directions. Implements the
 * SDK's Transport contract, so the same McpServer serves it as serves HTTP. Authenticated once at
 * the upgrade; the connection closes when that token expires.
 */
export class WebSocketServerTransport implements Transport {
  readonly sessionId = randomUUID();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: { authInfo?: AuthInfo }) => void;
  private readonly highWater: number;
  private readonly clock: Clock;
  private paused = false;
  private inbound: Promise<void> = Promise.resolve();
  /**
   * Ids of requests handed to the server whose work has not ended: unanswered, or cancelled by the client
   * while the server still works on them (a cancelled request gets no answer, but its work holds memory
   * and backend calls until its handler returns, so it keeps its place until requestSettled).
   */
  private readonly inFlight = new Set<unknown>();
  /** In-flight requests the client cancelled: their place is freed when the server's work on them ends. */
  private readonly cancelled = new Set<RequestId>();
  /** The trace span of each request in flight, ended by its answer (or the connection's end). */
  private readonly spans = new Map<RequestId, MessageSpan>();
  private scopeChallenge: ScopeChallengeHandler | undefined;
  /** The revision initialize negotiated; it decides whether batches are allowed. */
  private protocolVersion: string | undefined;
  /**
   * The id of the initialize handed to the server, until it is refused: a connection initializes once
   * (as an HTTP session does), so a second one cannot renegotiate the revision (and re-enable batches).
   */
  private initializeId: RequestId | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly auth: AuthInfo,
    private readonly options: WebSocketTransportOptions = {},
  ) {
    this.highWater = options.highWaterBytes ?? 1_048_576;
    this.clock = options.clock ?? systemClock;
  }

  async start(): Promise<void> {
    this.ws.on('message', (data, isBinary) => this.receive(data as Buffer, isBinary));
    this.ws.on('close', () => {
      for (const id of [...this.spans.keys()]) this.endSpan(id, true);
      this.onclose?.();
    });
    this.ws.on('error', (error) => this.onerror?.(error));
  }

  private receive(data: Buffer, isBinary: boolean): void {
    this.options.onActivity?.();
    if (isBinary) {
      this.ws.close(CLOSE.unsupportedData, 'MCP messages are text frames');
      return;
    }
    const expiresAt = this.auth.expiresAt;
    if (expiresAt && this.clock.now() / 1000 > expiresAt + (this.options.clockToleranceSeconds ?? 0)) {
      this.ws.close(CLOSE.policyViolation, 'access token expired; reconnect with a new token');
      return;
    }
    const checked = checkJsonRpc(data.toString('utf8'), { batchesRefused: this.batchesRefused() });
    // Admission and scope checks are asynchronous; the chain keeps frames in the order they arrived, and
    // a failure in one frame is reported and must not break the chain for the frames after it.
    this.inbound = this.inbound.then(() => this.serve(checked)).catch((error: unknown) => this.fail(error));
  }

  /** Why a batch is refused now, or undefined while the negotiated revision still has batches. */
  private batchesRefused(): string | undefined {
    const revision = this.protocolVersion;
    if (revision === undefined) return 'no JSON-RPC batches before initialize has negotiated a revision';
    return revisionHasBatches(revision) ? undefined : `protocol ${revision} does not allow JSON-RPC batches`;
  }

  /** Answers what the gate refused and hands the rest to the server, one answer per request. */
  private async serve(checked: Checked): Promise<void> {
    const owed = answersOwed(checked);
    if (this.options.admit && owed > 0) {
      const messages = checked.ok ? checked.entries.flatMap((entry) => (entry.ok ? [entry.message] : [])) : [];
      let refusal: JsonRpcErrorBody | undefined;
      try {
        refusal = await this.options.admit(messages, owed);
      } catch {
        refusal = { code: -32603, message: 'Internal error' };
      }
      if (refusal) {
        if (!checked.ok) return this.sendRaw(errorAnswer(null, refusal));
        for (const entry of checked.entries.filter(isAnswered)) {
          this.sendRaw(errorAnswer(entry.ok ? (entry.message as JSONRPCRequest).id : entry.id, refusal));
        }
        return;
      }
    }
    if (!checked.ok) return this.sendRaw(errorAnswer(null, checked.error));
    for (const entry of checked.entries) {
      if (!entry.ok) {
        this.sendRaw(errorAnswer(entry.id, entry.error));
        continue;
      }
      try {
        await this.dispatch(entry.message);
      } catch (error) {
        // Still one answer to the request; the other entries of a batch carry on.
        this.fail(error);
        if (isJSONRPCRequest(entry.message)) {
          const { id } = entry.message;
          this.inFlight.delete(id);
          this.endSpan(id, true);
          this.sendRaw(errorAnswer(id, { code: -32603, message: 'Internal error' }));
        }
      }
    }
  }

  private fail(error: unknown): void {
    this.onerror?.(error instanceof Error ? error : new Error(String(error)));
  }

  private async dispatch(message: JSONRPCMessage): Promise<void> {
    if (isJSONRPCRequest(message) && message.method === 'initialize') {
      if (this.initializeId !== undefined) {
        const revision = this.protocolVersion ? `; revision ${this.protocolVersion} holds` : '';
        this.sendRaw(
          errorAnswer(message.id, {
            code: INVALID_REQUEST,
            message: `Invalid Request: already initialized${revision}. Open a new connection to initialize again`,
          }),
        );
        return;
      }
      this.initializeId = message.id;
    }
    // An id still in flight (a cancelled request's included) would take no place of its own, and the
    // server would lose track of the first request's work: refused, so the cap below counts every request.
    if (isJSONRPCRequest(message) && this.inFlight.has(message.id)) {
      this.sendRaw(
        errorAnswer(message.id, {
          code: INVALID_REQUEST,
          message: `Invalid Request: request id ${JSON.stringify(message.id)} is still in flight on this connection (a cancelled request keeps its id until its work ends); use a new id`,
        }),
      );
      return;
    }
    // One connection must not queue unbounded work (each request holds memory and a backend call).
    if (isJSONRPCRequest(message) && this.inFlight.size >= (this.options.maxInFlight ?? 32)) {
      this.sendRaw({
        jsonrpc: '2.0',
        id: message.id,
        error: {
          code: -32000,
          message:
            'Too many requests in flight on this connection (cancelled ones count until their work ends); wait for answers first',
        },
      });
      return;
    }
    if (this.scopeChallenge && isJSONRPCRequest(message)) {
      let challenge: Awaited<ReturnType<ScopeChallengeHandler>>;
      try {
        challenge = await this.scopeChallenge({ request: message, authInfo: this.auth });
      } catch {
        // Fail closed: a request whose scopes cannot be checked is not served.
        this.sendRaw({ jsonrpc: '2.0', id: message.id, error: { code: -32603, message: 'Internal error' } });
        return;
      }
      if (challenge) {
        this.sendRaw({
          jsonrpc: '2.0',
          id: message.id,
          error: {
            code: INSUFFICIENT_SCOPE,
            message: `Forbidden: this token lacks the scope ${challenge.scopes.join(' ')}`,
            data: { requiredScopes: challenge.scopes },
          },
        });
        return;
      }
    }
    // A cancelled request gets no answer (the protocol says so); its place is freed once its work ends.
    if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
      const cancelled = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (cancelled !== undefined && this.inFlight.has(cancelled)) {
        this.cancelled.add(cancelled);
        this.endSpan(cancelled, false);
      }
    }
    if (!isJSONRPCRequest(message)) {
      this.onmessage?.(message, { authInfo: this.auth });
      return;
    }
    this.inFlight.add(message.id);
    // One trace per request, as over HTTP: its gRPC calls and queries are children of this span.
    const span = inMessageSpan('gateway', message.method, () => this.onmessage?.(message, { authInfo: this.auth }));
    this.spans.set(message.id, span);
  }

  private endSpan(id: RequestId, failed: boolean): void {
    this.spans.get(id)?.end(failed);
    this.spans.delete(id);
  }

  /**
   * Called when the server's handler of a request has returned, answered or not (mcp-server.ts reports
   * it): the place of a request the client cancelled is freed only now, when its work has really ended.
   */
  requestSettled(id: RequestId): void {
    if (this.cancelled.delete(id)) this.inFlight.delete(id);
  }

  /** Called by the server when initialize negotiated a revision. */
  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  /** Called by McpServer.connect: the same per-tool scope rules the HTTP transport enforces. */
  setScopeChallengeResolver(resolver: ScopeChallengeHandler): void {
    this.scopeChallenge = resolver;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.ws.readyState !== this.ws.OPEN) throw new Error('WebSocket is not open');
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      this.inFlight.delete(message.id);
      if (message.id !== undefined) this.cancelled.delete(message.id);
      // An initialize that failed may be sent again.
      if (isJSONRPCErrorResponse(message) && message.id === this.initializeId && !this.protocolVersion) {
        this.initializeId = undefined;
      }
      if (message.id !== undefined) this.endSpan(message.id, isJSONRPCErrorResponse(message));
    }
    this.sendRaw(message);
  }

  private sendRaw(message: unknown): void {
    this.ws.send(JSON.stringify(message), () => {
      if (this.paused && this.ws.bufferedAmount < this.highWater / 2) {
        this.paused = false;
        this.ws.resume();
      }
    });
    // Back-pressure: a client that does not read its answers stops being read.
    if (!this.paused && this.ws.bufferedAmount > this.highWater) {
      this.paused = true;
      this.ws.pause();
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(CLOSE.normal, 'session closed');
    }
  }
}
