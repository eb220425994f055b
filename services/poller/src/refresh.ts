import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  type Clock,
  inSendSpan,
  isGrpcError,
  type Logger,
  type PollMessage,
  pollMessageSchema,
  queueNameOf,
  withTraceAttributes,
} from '@callgate/common';
import { status } from '@grpc/grpc-js';
import { retryDelaySeconds } from './backoff.js';
import type { Outcome, ReceivedMessage } from './consumer.js';
import type { RefreshDedup } from './dedup.js';

/** The call service's RefreshStatus, as the poller needs it. */
export type RefreshCall = (
  request: { callId: string; reason: string },
  signal: AbortSignal,
) => Promise<{ terminal: boolean; changed: boolean; createdAt: string }>;

/** Sends poll messages in batches of 10 (SendMessageBatch), each with its own delay; throws if any failed. */
export async function sendPolls(
  sqs: SQSClient,
  queueUrl: string,
  messages: { message: PollMessage; delaySeconds: number }[],
): Promise<void> {
  const batches: Promise<void>[] = [];
  for (let i = 0; i < messages.length; i += 10) {
    const slice = messages.slice(i, i + 10);
    batches.push(
      inSendSpan(queueNameOf(queueUrl), () =>
        sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: slice.map((m, j) => ({
              Id: String(j),
              MessageBody: JSON.stringify(m.message),
              // A re-enqueued poll stays in the trace of the message that led to it.
              MessageAttributes: withTraceAttributes(),
              DelaySeconds: Math.min(900, Math.max(0, Math.round(m.delaySeconds))),
            })),
          }),
        ),
      ).then((response) => {
        if (response.Failed?.length) {
          throw new Error(`SQS refused ${response.Failed.length} message(s): ${response.Failed[0]?.Message ?? ''}`);
        }
      }),
    );
  }
  await Promise.all(batches);
}

export interface RefreshHandlerOptions {
  refresh: RefreshCall;
  dedup: RefreshDedup;
  /** Re-enqueues a call still not terminal. */
  requeue: (message: PollMessage, delaySeconds: number) => Promise<void>;
  clock: Clock;
  retry: { minSeconds: number; maxSeconds: number };
  maxReceiveCount: number;
  log: Logger;
  /** Counts refreshes that moved a call (transitions), for metrics and tests. */
  onRefreshed?: (changed: boolean, terminal: boolean) => void;
}

const NEVER = [status.NOT_FOUND, status.INVALID_ARGUMENT];

/**
 * Handles one message: parse it, skip it if a refresh already answered it, ask the call service to
 * refresh the call (its state machine applies the carrier's answer and ignores stale ones), and
 * re-enqueue a call still not terminal with a delay that grows with its age. Unparseable messages and
 * unknown calls are poison: logged with the reason and left to reach the DLQ after maxReceiveCount.
 */
export function refreshHandler(o: RefreshHandlerOptions) {
  return async (received: ReceivedMessage, signal: AbortSignal): Promise<Outcome> => {
    const poison = (reason: string): Outcome => {
      o.log.warn(
        {
          messageId: received.id,
          receiveCount: received.receiveCount,
          reason,
          toDlq: received.receiveCount >= o.maxReceiveCount,
        },
        'poison message: left to reach the dead-letter queue',
      );
      return { kind: 'poison', reason };
    };
    let message: PollMessage;
    try {
      const parsed = pollMessageSchema.safeParse(JSON.parse(received.body));
      if (!parsed.success) return poison(`not a poll message: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      message = parsed.data;
    } catch {
      return poison('not JSON');
    }
    const claim = await o.dedup.claim(message.callId, new Date(message.enqueuedAt));
    if (!claim.claimed && claim.reason === 'refresh-in-progress') {
      // Another refresh of this call is running (here or on a replica that may have died): keep this message
      // until that one finishes (it then reads as a duplicate) or its claim expires (it is then refreshed).
      return { kind: 'retry', reason: 'a refresh of this call is running' };
    }
    if (!claim.claimed) return { kind: 'duplicate' };
    let result: Awaited<ReturnType<RefreshCall>>;
    try {
      result = await o.refresh(
        { callId: message.callId, reason: message.reason === 'sweep' ? 'sweep' : 'poll' },
        signal,
      );
    } catch (error) {
      await o.dedup.abandon(message.callId).catch(() => undefined);
      if (isGrpcError(error) && NEVER.includes(error.code))
        return poison(`unknown call ${message.callId}: ${error.details}`);
      return { kind: 'retry', reason: error instanceof Error ? error.message : String(error) };
    }
    const refreshedAt = o.clock.date();
    o.onRefreshed?.(result.changed, result.terminal);
    if (!result.terminal) {
      const age = refreshedAt.getTime() - Date.parse(result.createdAt || message.enqueuedAt);
      const delay = retryDelaySeconds(age, o.retry);
      // Enqueued 1 ms after the refresh it follows, so it is not taken for a duplicate of it.
      const next: PollMessage = {
        callId: message.callId,
        attempt: message.attempt + 1,
        reason: 'retry',
        enqueuedAt: new Date(refreshedAt.getTime() + 1).toISOString(),
      };
      try {
        await o.requeue(next, delay);
      } catch (error) {
        // The message stays, comes back, and is refreshed again: the call is never dropped.
        await o.dedup.abandon(message.callId).catch(() => undefined);
        return {
          kind: 'retry',
          reason: `re-enqueue failed: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
    }
    try {
      await o.dedup.finish(message.callId, refreshedAt);
    } catch {
      // The refresh and its follow-up are done: retrying the message would start a second poll chain.
      // An unrecorded refresh only means a later duplicate is refreshed once more.
    }
    return { kind: 'done' };
  };
}
