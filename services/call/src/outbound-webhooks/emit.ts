import type { Queryable } from '@callgate/common';

/**
 * Emits a webhook event that is not a call transition, in the caller's transaction: `recording.ready`
 * when a call's recording is stored (call it in the same transaction that records the recording, so the
 * event exists if and only if the recording does). Call transitions (call.answered, call.<final status>)
 * are emitted by the database itself (migration 0009). Emitting the same event twice does nothing: the
 * event id is derived from the call and the type (webhookEventId in @callgate/common).
 */
export async function emitWebhookEvent(
  q: Queryable,
  event: { callId: string; type: 'recording.ready'; occurredAt: Date },
): Promise<void> {
  await q.query('SELECT calls.emit_webhook_event($1::uuid, $2, $3)', [event.callId, event.type, event.occurredAt]);
}
