import type { callV1 } from '@callgate/protos';
import { type CallStatus, fromProtoStatus } from './call-status.js';

/**
 * The MCP word for a gRPC status. A status this build does not know yet (a newer call service) is
 * passed on lowercased rather than dropped, so a client still sees something readable.
 */
export function statusOf(proto: string): CallStatus {
  return (
    fromProtoStatus(proto) ??
    (proto
      .replace(/^CALL_STATUS_/, '')
      .toLowerCase()
      .replace(/_/g, '-') as CallStatus)
  );
}

/**
 * Calls as MCP clients get them (the gateway's call-schemas.ts describes these shapes), and as webhook
 * deliveries carry them (the call service's outbound webhooks): one definition for both. The call service's messages
 * with statuses in the MCP vocabulary (call-status.ts), the outcome's fields as a JSON object rather
 * than a JSON string inside the JSON, and no user id (the token says whose call it is).
 */

export type CallEventView = Omit<callV1.CallEvent__Output, 'status' | 'kind' | 'costCredits'> & { status: CallStatus };

export interface CallOutcomeView {
  /** What was learned, shaped by the call's outcomeSchema. */
  fields: Record<string, unknown>;
  missingFields: string[];
  summary: string;
  objectiveReached: boolean;
  endReason: string;
}

export type CallView = Omit<callV1.Call__Output, 'userId' | 'status' | 'timeline' | 'outcome'> & {
  status: CallStatus;
  timeline: CallEventView[];
  outcome: CallOutcomeView | null;
};

export type CallProgressView = Omit<callV1.CallProgress__Output, 'status' | 'lastEvent'> & {
  status: CallStatus;
  lastEvent: CallEventView | null;
};

/** A status change as MCP clients read it (timelines hold no settlements; the call's cost says that). */
export const eventView = ({ kind: _kind, costCredits: _cost, ...event }: callV1.CallEvent__Output): CallEventView => ({
  ...event,
  status: statusOf(event.status),
});

/** The call service writes fieldsJson with JSON.stringify of an object; anything else reads as nothing learned. */
function parseFields(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json || '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function outcomeView(outcome: callV1.CallOutcome__Output | null): CallOutcomeView | null {
  if (!outcome) return null;
  const { fieldsJson, ...rest } = outcome;
  return { ...rest, fields: parseFields(fieldsJson) };
}

export function callView(call: callV1.Call__Output): CallView {
  const { userId: _userId, status, timeline, outcome, ...rest } = call;
  return {
    ...rest,
    status: statusOf(status),
    timeline: (timeline ?? []).map(eventView),
    outcome: outcomeView(outcome),
  };
}

/** A call the gRPC answer may lack (a message field is nullable in proto3). */
export const callViewOrNull = (call: callV1.Call__Output | null | undefined): CallView | null =>
  call ? callView(call) : null;

export function progressView(progress: callV1.CallProgress__Output): CallProgressView {
  return {
    ...progress,
    status: statusOf(progress.status),
    lastEvent: progress.lastEvent ? eventView(progress.lastEvent) : null,
  };
}
