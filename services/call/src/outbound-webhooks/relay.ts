import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type CallView, type Clock, callView, type Database, type Logger } from '@callgate/common';
import type { callV1 } from '@callgate/protos';

/** The delivery queue's message: which delivery (event × endpoint) to attempt. Everything else is in the database. */
export interface DeliveryMessage {
  deliveryId: string;
}

/** The JSON body of every delivery of one event. */
export interface WebhookEventBody {
  id: string;
  type: string;
  createdAt: string;
  data: { call: CallView };
}

/** The call as GetCall shows it to its owner (service.ts gives the same reader GetCall uses). */
export type ReadCall = (userId: string, callId: string) => Promise<callV1.Call__Output>;

export interface RelayOptions {
  db: Database;
  sqs: SQSClient;
  queueUrl: string;
  readCall: ReadCall;
  clock: Clock;
  log: Logger;
  /** How long a claimed delivery is this relay's before another may enqueue it (a relay that died). */
  leaseMs?: number;
}

const BATCH = 10;

/**
 * Moves deliveries from the database (where the transition's transaction wrote them) onto the SQS
 * delivery queue: claims a batch under a lease (SKIP LOCKED, so replicas never wait for each other and
 * each delivery is claimed by one), renders each event's body once (the call as getCallDetails shows it,
 * read now: for an end, after its settlement, with its cost), sends the messages and marks them enqueued.
 * A relay that dies after claiming leaves its lease to expire, and the periodic pass sends them then: at
 * least once. A message sent twice is harmless (the worker skips a delivery already final).
 */
export class DeliveryRelay {
  constructor(private readonly options: RelayOptions) {}

  /** Enqueues everything waiting; returns how many deliveries were sent. */
  async drain(): Promise<number> {
    let sent = 0;
    for (;;) {
      const batch = await this.claim();
      if (batch.length === 0) return sent;
      await this.renderBodies([...new Set(batch.map((d) => d.event_id))]);
      await this.send(batch.map((d) => d.delivery_id));
      sent += batch.length;
    }
  }

  private async claim(): Promise<{ delivery_id: string; event_id: string }[]> {
    const now = this.options.clock.date();
    const until = new Date(now.getTime() + (this.options.leaseMs ?? 60_000));
    const { rows } = await this.options.db.query<{ delivery_id: string; event_id: string }>(
      `UPDATE calls.webhook_deliveries SET enqueue_lease_until = $2
       WHERE delivery_id IN (
         SELECT delivery_id FROM calls.webhook_deliveries
         WHERE enqueued_at IS NULL AND state = 'pending' AND (enqueue_lease_until IS NULL OR enqueue_lease_until < $1)
         ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING delivery_id, event_id`,
      [now, until, BATCH],
    );
    return rows;
  }

  private async renderBodies(eventIds: string[]): Promise<void> {
    const { rows } = await this.options.db.query<{
      event_id: string;
      call_id: string;
      user_id: string;
      type: string;
      created_at: Date;
    }>(
      'SELECT event_id, call_id, user_id, type, created_at FROM calls.webhook_events WHERE event_id = ANY($1) AND body IS NULL',
      [eventIds],
    );
    for (const event of rows) {
      const body: WebhookEventBody = {
        id: event.event_id,
        type: event.type,
        createdAt: event.created_at.toISOString(),
        data: { call: callView(await this.options.readCall(event.user_id, event.call_id)) },
      };
      // Only the first rendering counts: every attempt and replay sends the same bytes.
      await this.options.db.query('UPDATE calls.webhook_events SET body = $2 WHERE event_id = $1 AND body IS NULL', [
        event.event_id,
        JSON.stringify(body),
      ]);
    }
  }

  private async send(deliveryIds: string[]): Promise<void> {
    const entries = deliveryIds.map((deliveryId, i) => ({
      Id: String(i),
      MessageBody: JSON.stringify({ deliveryId } satisfies DeliveryMessage),
    }));
    const result = await this.options.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: entries }),
    );
    const failed = new Set((result.Failed ?? []).map((f) => Number(f.Id)));
    const sent = deliveryIds.filter((_, i) => !failed.has(i));
    if (failed.size > 0) {
      // Left unenqueued: their lease expires and the periodic pass sends them again.
      this.options.log.warn({ failed: failed.size }, 'some webhook deliveries could not be enqueued; retried later');
    }
    if (sent.length === 0) return;
    await this.options.db.query(
      'UPDATE calls.webhook_deliveries SET enqueued_at = $2, enqueue_lease_until = NULL WHERE delivery_id = ANY($1)',
      [sent, this.options.clock.date()],
    );
  }
}
