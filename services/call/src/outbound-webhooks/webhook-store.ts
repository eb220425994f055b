import { randomUUID } from 'node:crypto';
import {
  type Clock,
  type Database,
  DomainError,
  decodeCursor,
  encodeCursor,
  invalidArgument,
  notFound,
  pageSize,
} from '@callgate/common';

export interface EndpointRow {
  endpoint_id: string;
  user_id: string;
  url: string;
  events: string[];
  description: string;
  secret: string;
  created_at: Date;
}

export interface DeliveryLogRow {
  delivery_id: string;
  event_id: string;
  type: string;
  call_id: string;
  state: 'pending' | 'retrying' | 'delivered' | 'dead-lettered' | 'canceled';
  attempts: number;
  last_error: string;
  last_status_code: number;
  next_attempt_at: Date | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** Everything one attempt needs: the delivery, its endpoint (with the secret) and the event's body. */
export interface DeliveryWork {
  delivery_id: string;
  state: DeliveryLogRow['state'];
  attempts: number;
  created_at: Date;
  event_id: string;
  type: string;
  body: string | null;
  url: string;
  secret: string;
  endpoint_deleted: boolean;
  /** Whose endpoint: a user's attempts in flight are bounded (worker.ts), so one user cannot take every slot. */
  user_id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A webhook id from a request: anything but a UUID names no endpoint (NOT_FOUND, as another user's). */
const endpointId = (id: string): string | undefined => (UUID.test(id) ? id : undefined);

/** Endpoints, and the delivery log, in the calls schema. Each user reads and changes only their own. */
export class WebhookStore {
  constructor(
    readonly db: Database,
    private readonly clock: Clock,
  ) {}

  /**
   * Registers an endpoint unless the user has `max` already. Serialised per user (an advisory lock), so
   * concurrent creates cannot pass the cap together.
   */
  async create(
    userId: string,
    endpoint: { url: string; events: string[]; description: string; secret: string },
    max: number,
  ): Promise<EndpointRow> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`webhooks:${userId}`]);
      const { rows: count } = await tx.query<{ n: string | number }>(
        'SELECT count(*) AS n FROM calls.webhook_endpoints WHERE user_id = $1 AND deleted_at IS NULL',
        [userId],
      );
      if (Number(count[0]?.n ?? 0) >= max) {
        // Not RESOURCE_EXHAUSTED, which clients read as "retry later": waiting changes nothing here.
        throw new DomainError(
          'failed_precondition',
          `you have ${max} webhook endpoints, the most allowed: delete one (deleteWebhook) before adding another`,
          { retryable: false },
        );
      }
      const { rows } = await tx.query<EndpointRow>(
        `INSERT INTO calls.webhook_endpoints (endpoint_id, user_id, url, events, description, secret, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [randomUUID(), userId, endpoint.url, endpoint.events, endpoint.description, endpoint.secret, this.clock.date()],
      );
      return rows[0] as EndpointRow;
    });
  }

  async list(userId: string): Promise<EndpointRow[]> {
    const { rows } = await this.db.query<EndpointRow>(
      `SELECT * FROM calls.webhook_endpoints WHERE user_id = $1 AND deleted_at IS NULL
       ORDER BY created_at DESC, endpoint_id DESC`,
      [userId],
    );
    return rows;
  }

  /** Deletes an endpoint; its deliveries not yet made are canceled (the log keeps them). */
  async delete(userId: string, webhookId: string): Promise<void> {
    const id = endpointId(webhookId);
    const deleted = await this.db.transaction(async (tx) => {
      if (!id) return false;
      const r = await tx.query(
        `UPDATE calls.webhook_endpoints SET deleted_at = $3 WHERE endpoint_id = $1 AND user_id = $2 AND deleted_at IS NULL`,
        [id, userId, this.clock.date()],
      );
      if (r.rowCount !== 1) return false;
      await tx.query(
        `UPDATE calls.webhook_deliveries SET state = 'canceled', next_attempt_at = NULL
         WHERE endpoint_id = $1 AND state IN ('pending', 'retrying')`,
        [id],
      );
      return true;
    });
    if (!deleted) throw notFound('webhook', webhookId);
  }

  /** A page of an endpoint's delivery log, newest first. Another user's endpoint is NOT_FOUND. */
  async deliveries(
    userId: string,
    webhookId: string,
    pageToken: string,
    requestedSize: number,
  ): Promise<{ deliveries: DeliveryLogRow[]; nextPageToken: string }> {
    const size = pageSize(requestedSize);
    const id = endpointId(webhookId);
    const owner = id
      ? await this.db.query('SELECT 1 FROM calls.webhook_endpoints WHERE endpoint_id = $1 AND user_id = $2', [
          id,
          userId,
        ])
      : undefined;
    if (!owner?.rows.length) throw notFound('webhook', webhookId);
    const cursor = decodeCursor(pageToken, ['t', 'id'] as const);
    const after = cursor ? new Date(String(cursor.t)) : undefined;
    if (cursor && (Number.isNaN(after?.getTime()) || !UUID.test(String(cursor.id)))) {
      throw invalidArgument('pageToken', 'not a page token from a previous response; start without one');
    }
    const { rows } = await this.db.query<DeliveryLogRow>(
      `SELECT d.delivery_id, d.event_id, e.type, e.call_id, d.state, d.attempts, d.last_error, d.last_status_code,
         d.next_attempt_at, d.created_at, d.delivered_at
       FROM calls.webhook_deliveries d JOIN calls.webhook_events e USING (event_id)
       WHERE d.endpoint_id = $1 ${cursor ? 'AND (d.created_at, d.delivery_id) < ($3, $4)' : ''}
       ORDER BY d.created_at DESC, d.delivery_id DESC LIMIT $2`,
      cursor ? [id, size + 1, after, cursor.id] : [id, size + 1],
    );
    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    return {
      deliveries: page,
      nextPageToken:
        rows.length > size && last ? encodeCursor({ t: last.created_at.toISOString(), id: last.delivery_id }) : '',
    };
  }

  /** What one attempt needs; undefined when the delivery is unknown (a message from another system's queue). */
  async work(deliveryId: string): Promise<DeliveryWork | undefined> {
    if (!UUID.test(deliveryId)) return undefined;
    const { rows } = await this.db.query<DeliveryWork>(
      `SELECT d.delivery_id, d.state, d.attempts, d.created_at, e.event_id, e.type, e.body, p.url, p.secret,
         p.deleted_at IS NOT NULL AS endpoint_deleted, p.user_id
       FROM calls.webhook_deliveries d
       JOIN calls.webhook_events e USING (event_id)
       JOIN calls.webhook_endpoints p USING (endpoint_id)
       WHERE d.delivery_id = $1`,
      [deliveryId],
    );
    return rows[0];
  }

  /** Records an attempt's outcome, unless the delivery is already final (a duplicate message raced it). */
  async recordAttempt(
    deliveryId: string,
    outcome: {
      state: 'delivered' | 'retrying' | 'dead-lettered' | 'canceled';
      statusCode: number;
      error: string;
      nextAttemptAt: Date | null;
      attempted: boolean;
    },
  ): Promise<void> {
    const now = this.clock.date();
    await this.db.query(
      `UPDATE calls.webhook_deliveries SET state = $2, attempts = attempts + $3::integer, last_status_code = $4,
         last_error = CASE WHEN $2 = 'delivered' THEN last_error ELSE $5 END,
         next_attempt_at = $6, delivered_at = CASE WHEN $2 = 'delivered' THEN $7::timestamptz ELSE delivered_at END
       WHERE delivery_id = $1 AND state IN ('pending', 'retrying')`,
      [
        deliveryId,
        outcome.state,
        outcome.attempted ? 1 : 0,
        outcome.statusCode,
        outcome.error,
        outcome.nextAttemptAt,
        now,
      ],
    );
  }
}
