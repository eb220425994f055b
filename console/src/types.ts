/**
 * The gateway's tool and resource shapes the console reads (services/gateway/src/tools/*-schemas.ts
 * are the contract; test/console/contract.test.ts keeps the status list equal to the gateway's).
 */
export const CALL_STATUSES = [
  'queued',
  'initiated',
  'ringing',
  'in-progress',
  'completed',
  'busy',
  'no-answer',
  'failed',
  'canceled',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];
export const TERMINAL: readonly string[] = ['completed', 'busy', 'no-answer', 'failed', 'canceled'];

export interface CallEvent {
  sequence: number;
  status: CallStatus;
  occurredAt: string;
  source: string;
  detail: string;
}
export interface TranscriptTurn {
  speaker: string;
  text: string;
  startedAt: string;
  interrupted: boolean;
}
export interface Call {
  callId: string;
  to: string;
  from: string;
  status: CallStatus;
  task: string;
  voice: string;
  model: string;
  maxDurationSeconds: number;
  createdAt: string;
  answeredAt: string;
  endedAt: string;
  durationSeconds: number;
  costCredits: number;
  reservedCredits: number;
  errorMessage: string;
  timeline: CallEvent[];
  transcript: TranscriptTurn[];
  outcome: {
    fields: Record<string, unknown>;
    missingFields: string[];
    summary: string;
    objectiveReached: boolean;
    endReason: string;
  } | null;
  /** Whether the call is recorded (makePhoneCall's `record`). */
  record: boolean;
  recording: Recording | null;
  /** When the transcript was deleted (on request or by retention); empty otherwise. */
  transcriptDeletedAt: string;
}
export interface Recording {
  /** processing, ready (url plays it), failed (lastError says why), absent or deleted. */
  status: string;
  durationSeconds: number;
  /** Pre-signed, valid until urlExpiresAt; empty unless ready. */
  url: string;
  urlExpiresAt: string;
  contentType: string;
  channels: number;
  fetchAttempts: number;
  lastError: string;
}
/** What deleteCallData can delete (services/gateway/src/tools/recordings.ts CALL_DATA). */
export type CallData = 'recording' | 'transcript';
/** Webhook event names (services/common/src/webhook-events.ts; test/console/contract.test.ts keeps them equal). */
export const WEBHOOK_EVENTS = [
  'call.answered',
  'call.completed',
  'call.busy',
  'call.no-answer',
  'call.failed',
  'call.canceled',
  'recording.ready',
] as const;
export interface Webhook {
  webhookId: string;
  url: string;
  events: string[];
  description: string;
  createdAt: string;
}
export interface WebhookDelivery {
  eventId: string;
  eventType: string;
  callId: string;
  state: 'pending' | 'retrying' | 'delivered' | 'dead-lettered' | 'canceled';
  attempts: number;
  lastError: string | null;
  lastStatusCode: number | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}
export interface Voice {
  id: string;
  provider: string;
  name: string;
  languages: string[];
  gender: string;
  description: string;
}
export interface Model {
  id: string;
  name: string;
  provider: string;
  tier: string;
  creditsPerMinute: number;
  description: string;
}
export interface Preferences {
  defaultVoice: string;
  defaultModel: string;
  language: string;
  callerId: string;
  maxCallDurationSeconds: number;
  timezone: string;
  quietHours: { start: string; end: string } | null;
  maxConcurrentCalls: number;
}
export interface Profile {
  userId: string;
  displayName: string;
  email: string;
  plan: string;
  callerIds: string[];
}
export interface Balance {
  available: number;
  held: number;
  debt: number;
  unit: string;
  lowBalance: boolean;
}
export interface UsageEntry {
  entryId: string;
  kind: string;
  amount: number;
  callId: string;
  createdAt: string;
  description: string;
  charged: number;
  heldChange: number;
  debtChange: number;
}
export interface Usage {
  entries: UsageEntry[];
  nextPageToken: string;
  daily: { day: string; charged: number; calls: number }[];
}
export interface Estimate {
  model: string;
  maxDurationSeconds: number;
  creditsPerMinute: number;
  holdCredits: number;
  availableCredits: number;
  enough: boolean;
}
export interface ConnectedApp {
  grantId: string;
  clientId: string;
  clientName: string;
  scopes: string[];
  grantedAt: string;
  lastUsedAt: string | null;
}
export interface PersonalToken {
  tokenId: string;
  name: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
}
/** Scopes a personal access token may carry (never admin or apps:manage). */
export const TOKEN_SCOPES = ['calls:read', 'calls:write', 'profile:read', 'profile:write', 'credits:read'] as const;
