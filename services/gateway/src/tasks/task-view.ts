import type { callV1 } from '@callgate/protos';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { isTerminalStatus, statusPhrase as phrase, statusOf } from '../tools/call-status.js';
import { callView } from '../tools/call-view.js';

/**
 * makePhoneCall as an MCP task. The task is the call: its id is the call id and its state is the
 * call's, read from the call service on every tasks/get. Nothing is kept in the gateway, so any
 * replica answers, a gateway restart loses no task, and a task lives as long as its call record.
 */

export type TaskStatus = 'working' | 'completed' | 'cancelled' | 'failed';

/** How long a task may be fetched: call records are kept far longer; this is what we promise. */
export const TASK_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** A call changes stage every few seconds; polling faster only spends the client's rate limit. */
export const POLL_INTERVAL_MS = 2000;

export const isTerminalCall = (call: callV1.Call__Output) => isTerminalStatus(call.status);

/** The task's state as the call shows it. */
export function taskStateOf(call: callV1.Call__Output): { status: TaskStatus; statusMessage: string } {
  // Cancelled from the moment the cancel is recorded, and for good (tasks never leave a terminal
  // status): a call hung up on request may still end "completed" in the carrier's terms.
  if (call.cancelRequestedAt || statusOf(call.status) === 'canceled') {
    return { status: 'cancelled', statusMessage: 'cancelled on request' };
  }
  if (!isTerminalCall(call)) return { status: 'working', statusMessage: phrase(call.status) };
  // The end is recorded a moment before its credits are settled; the result carries the final cost.
  if (call.reservedCredits > 0) return { status: 'working', statusMessage: `${phrase(call.status)}, settling credits` };
  return { status: 'completed', statusMessage: phrase(call.status) };
}

/** The task fields both task revisions share, with the revision's own names for the durations. */
export function taskFields(call: callV1.Call__Output, revision: 'modern' | 'legacy') {
  const { status, statusMessage } = taskStateOf(call);
  const common = {
    taskId: call.callId,
    status,
    statusMessage,
    createdAt: call.createdAt,
    lastUpdatedAt: call.updatedAt || call.createdAt,
  };
  return revision === 'modern'
    ? { ...common, ttlMs: TASK_TTL_MS, pollIntervalMs: POLL_INTERVAL_MS }
    : { ...common, ttl: TASK_TTL_MS, pollInterval: POLL_INTERVAL_MS };
}

/** What makePhoneCall with wait "completed" would have returned: the call as it ended. */
export function callResult(call: callV1.Call__Output): CallToolResult {
  const value = { call: callView(call) };
  return { structuredContent: value, content: [{ type: 'text', text: JSON.stringify(value) }] };
}
