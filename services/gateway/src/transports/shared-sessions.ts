import { randomUUID } from 'node:crypto';
import type { Logger } from '@callgate/common';
import type { Redis } from 'ioredis';

/** What another replica needs to continue a session: whose it is, how it began, what it watches. */
export interface SessionRecord {
  userId: string;
  /** The client's initialize request, replayed to a new server to restore the negotiated state. */
  initialize: unknown;
}

const KEY = (id: string) => `callgate:session:${id}`;
const SUBSCRIPTIONS = (id: string) => `callgate:session:${id}:subscriptions`;
const CHANNEL = 'callgate:gateway:session-subscriptions';

export interface SubscriptionChange {
  sessionId: string;
  uri: string;
  subscribed: boolean;
}

/**
 * MCP sessions of 2025-era clients kept in Redis (REDIS_URL), so a request that reaches any replica
 * (after a deploy, a scale-in, or without sticky load balancing) continues its session. Each record
 * lives as long as the session may idle, renewed by every request. Subscriptions are a set beside
 * it, and their changes are published, so the replica holding the client's GET stream delivers the
 * updates of a subscription made through another. Without Redis every method is a no-op and sessions
 * live only in the replica that opened them.
 */
export class SharedSessions {
  private readonly origin = randomUUID();
  private subscriber: Redis | undefined;

  constructor(
    private readonly redis: Redis | undefined,
    private readonly idleMs: number,
    private readonly log: Logger,
  ) {}

  get enabled(): boolean {
    return this.redis !== undefined;
  }

  async save(id: string, record: SessionRecord): Promise<void> {
    await this.redis?.set(KEY(id), JSON.stringify(record), 'PX', this.idleMs).catch((error: unknown) => {
      this.log.warn({ err: error }, 'session not shared (Redis): only this replica can continue it');
    });
  }

  async load(id: string): Promise<SessionRecord | undefined> {
    if (!this.redis) return undefined;
    const text = await this.redis.get(KEY(id));
    return text ? (JSON.parse(text) as SessionRecord) : undefined;
  }

  /** Renews the session's lifetime; a failure only shortens it. */
  touch(id: string): void {
    if (!this.redis) return;
    this.redis
      .multi()
      .pexpire(KEY(id), this.idleMs)
      .pexpire(SUBSCRIPTIONS(id), this.idleMs)
      .exec()
      .catch(() => undefined);
  }

  async delete(id: string): Promise<void> {
    await this.redis?.del(KEY(id), SUBSCRIPTIONS(id)).catch(() => undefined);
  }

  async subscriptions(id: string): Promise<string[]> {
    return this.redis ? this.redis.smembers(SUBSCRIPTIONS(id)) : [];
  }

  /** Records a subscription change and tells the other replicas. */
  async changeSubscription(change: SubscriptionChange): Promise<void> {
    if (!this.redis) return;
    const key = SUBSCRIPTIONS(change.sessionId);
    const update = change.subscribed
      ? this.redis.multi().sadd(key, change.uri)
      : this.redis.multi().srem(key, change.uri);
    await update
      .pexpire(key, this.idleMs)
      .publish(CHANNEL, JSON.stringify({ ...change, from: this.origin }))
      .exec();
  }

  /** Follows subscription changes made through other replicas. */
  listen(onChange: (change: SubscriptionChange) => void): void {
    if (!this.redis || this.subscriber) return;
    this.subscriber = this.redis.duplicate({ enableOfflineQueue: true, connectionName: 'callgate-gateway-sessions' });
    this.subscriber.on('error', () => undefined); // the main client reports Redis outages
    this.subscriber.subscribe(CHANNEL).catch((error: unknown) => {
      this.log.warn({ err: error }, 'session subscriptions: subscribe failed');
    });
    this.subscriber.on('message', (_channel: string, message: string) => {
      try {
        const { from, ...change } = JSON.parse(message) as SubscriptionChange & { from: string };
        if (from !== this.origin) onChange(change);
      } catch {
        this.log.debug('session subscriptions: unreadable message ignored');
      }
    });
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }
}
