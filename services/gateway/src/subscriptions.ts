import type { Logger } from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import { type McpServer, ProtocolError, ProtocolErrorCode, type ServerNotifier } from '@modelcontextprotocol/server';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import { userIdOf } from './auth.js';
import type { Backends } from './backends.js';
import type { SessionRegistry } from './sessions.js';
import type { SharedSessions } from './transports/shared-sessions.js';

const CALL_URI = /^callgate:\/\/calls\/([0-9a-f-]{36})$/i;
const HISTORY_URI = 'callgate://calls';

interface Subscriber {
  server: McpServer;
  userId: string;
}

/**
 * Resource subscriptions on call resources. Sessions of 2025-era clients subscribe with
 * resources/subscribe (checked: only your own calls); 2026-07-28 clients listen through the SDK's
 * subscriptions/listen, fed by the notifier. Both are driven by one stream of every call change from the
 * call service (pushed from PostgreSQL NOTIFY), reconnected with backoff when it breaks.
 */
export class CallSubscriptions {
  private readonly byUri = new Map<string, Set<Subscriber>>();
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  private readonly listeners: ((change: callV1.CallChange__Output) => void)[] = [];
  private readonly reconnectListeners: (() => void)[] = [];
  private shared: SharedSessions | undefined;

  constructor(
    private readonly backends: Backends,
    private readonly log: Logger,
    private readonly modern?: ServerNotifier,
  ) {}

  /** Whether a user may watch a resource: calls only their own; other URIs carry no user data in updates. */
  async mayWatch(uri: string, userId: string): Promise<boolean> {
    const call = CALL_URI.exec(uri);
    if (!call?.[1]) return true;
    try {
      await this.backends.call.getCall({ userId, callId: call[1] });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Shares subscriptions of 2025-era sessions between replicas: each change is recorded in the shared
   * session, and changes made through other replicas reach this one's copy of the session.
   */
  share(shared: SharedSessions, sessions: SessionRegistry): void {
    this.shared = shared;
    shared.listen((change) => {
      const session = sessions.find(change.sessionId);
      if (!session) return;
      if (change.subscribed) this.add(change.uri, { server: session.server, userId: session.userId });
      else this.remove(change.uri, session.server);
    });
  }

  /** A session continued on this replica watches again what it watched before. */
  async restore(server: McpServer, userId: string, uris: readonly string[]): Promise<void> {
    for (const uri of uris) this.add(uri, { server, userId });
  }

  /** Adds resources/subscribe and resources/unsubscribe to a session's server. */
  attach(server: McpServer): void {
    server.server.setRequestHandler('resources/subscribe', async (request, ctx) => {
      const userId = userIdOf(ctx.http?.authInfo);
      const { uri } = request.params;
      // Only your own calls: another user's call id is "not found", as everywhere else. Any other resource may
      // be subscribed to; only calls and the call history change by themselves.
      if (!(await this.mayWatch(uri, userId))) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Resource not found: ${uri}`, { uri });
      }
      this.add(uri, { server, userId });
      if (ctx.sessionId) await this.shared?.changeSubscription({ sessionId: ctx.sessionId, uri, subscribed: true });
      return {};
    });
    server.server.setRequestHandler('resources/unsubscribe', async (request, ctx) => {
      this.remove(request.params.uri, server);
      if (ctx.sessionId) {
        await this.shared?.changeSubscription({ sessionId: ctx.sessionId, uri: request.params.uri, subscribed: false });
      }
      return {};
    });
    const previous = server.server.onclose;
    server.server.onclose = () => {
      for (const uri of [...this.byUri.keys()]) this.remove(uri, server);
      previous?.();
    };
  }

  /** Also tells `listener` of every change (the gateway's cache drops the user's balance). */
  onChange(listener: (change: callV1.CallChange__Output) => void): void {
    this.listeners.push(listener);
  }

  /** Tells `listener` each time the change stream (re)connects: changes in between were missed. */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  /** Starts following call changes; resolves at once, runs until stop(). */
  start(): void {
    const policy = retry(handleAll, {
      maxAttempts: Number.POSITIVE_INFINITY,
      backoff: new ExponentialBackoff({ maxDelay: 10_000 }),
    });
    policy.onRetry((event) => this.log.warn({ event }, 'call change stream broke; reconnecting'));
    this.running = policy
      .execute(() => this.follow(), this.controller.signal)
      .catch((error: unknown) => {
        if (!this.controller.signal.aborted) this.log.error({ err: error }, 'call change stream stopped');
      });
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
  }

  private async follow(): Promise<void> {
    if (this.controller.signal.aborted) return;
    const client = this.backends.call.raw as unknown as callV1.CallServiceClient;
    // A stream that lives as long as the gateway: no deadline.
    const stream = client.watchCallChanges({}, { deadline: Number.POSITIVE_INFINITY });
    // Changes made while the stream was down are not replayed: whoever relies on hearing of them starts over.
    for (const listener of this.reconnectListeners) listener();
    const cancel = () => stream.cancel();
    this.controller.signal.addEventListener('abort', cancel, { once: true });
    try {
      for await (const change of stream as AsyncIterable<callV1.CallChange__Output>) this.changed(change);
    } catch (error) {
      if (this.controller.signal.aborted) return;
      throw error;
    } finally {
      this.controller.signal.removeEventListener('abort', cancel);
    }
    if (!this.controller.signal.aborted) throw new Error('call change stream ended');
  }

  private changed(change: callV1.CallChange__Output): void {
    for (const listener of this.listeners) listener(change);
    const uri = `callgate://calls/${change.callId}`;
    this.modern?.resourceUpdated(uri);
    for (const target of [uri, HISTORY_URI]) {
      for (const subscriber of this.byUri.get(target) ?? []) {
        if (subscriber.userId !== change.userId) continue;
        subscriber.server.server.sendResourceUpdated({ uri: target }).catch((error: unknown) => {
          this.log.debug({ err: error, uri: target }, 'resource update not delivered (session gone)');
        });
      }
    }
  }

  private add(uri: string, subscriber: Subscriber): void {
    let set = this.byUri.get(uri);
    if (!set) {
      set = new Set();
      this.byUri.set(uri, set);
    }
    for (const existing of set) if (existing.server === subscriber.server) return;
    set.add(subscriber);
  }

  private remove(uri: string, server: McpServer): void {
    const set = this.byUri.get(uri);
    if (!set) return;
    for (const subscriber of set) if (subscriber.server === server) set.delete(subscriber);
    if (set.size === 0) this.byUri.delete(uri);
  }
}
