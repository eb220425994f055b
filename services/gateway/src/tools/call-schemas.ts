import { z } from 'zod';
import { CALL_STATUSES, CANCEL_OUTCOMES } from './call-status.js';

/**
 * Output schemas of the call tools: the JSON a client gets as structuredContent, which is the call
 * service's proto messages as call-view.ts shows them (camelCase, statuses in the MCP vocabulary of
 * call-status.ts, int64 as numbers, defaults filled, the outcome's fields as an object). Objects are
 * loose, so a field added to the proto reaches clients without a gateway release; the fields named
 * here are the contract.
 */

const callStatus = z.enum(CALL_STATUSES).describe('Where the call is; the last five never change again.');

const timestamp = z.string().describe('RFC 3339 (UTC), or empty when not yet reached.');

export const callEventSchema = z.looseObject({
  sequence: z.number().int(),
  status: callStatus,
  occurredAt: timestamp,
  source: z.string().describe('api, callback, poll, relay or system.'),
  detail: z.string(),
});

export const transcriptTurnSchema = z.looseObject({
  speaker: z.string().describe('agent or callee.'),
  text: z.string(),
  startedAt: timestamp,
  interrupted: z.boolean(),
});

export const callSchema = z.looseObject({
  callId: z.string(),
  to: z.string(),
  from: z.string(),
  status: callStatus,
  task: z.string(),
  firstMessage: z.string(),
  voice: z.string(),
  model: z.string(),
  language: z.string(),
  maxDurationSeconds: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
  answeredAt: timestamp,
  endedAt: timestamp,
  durationSeconds: z.number().int(),
  costCredits: z.number().describe('Credits charged; 0 until the call is settled.'),
  reservedCredits: z.number().describe('Credits held while the call runs.'),
  errorCode: z.string(),
  errorMessage: z.string(),
  metadata: z.record(z.string(), z.string()),
  timeline: z.array(callEventSchema).describe('Every status change (getCallDetails; empty in lists).'),
  transcript: z.array(transcriptTurnSchema).describe('What was said, turn by turn.'),
  outcome: z
    .looseObject({
      fields: z.record(z.string(), z.unknown()).describe("What was learned, shaped by the call's outcomeSchema."),
      missingFields: z.array(z.string()),
      summary: z.string(),
      objectiveReached: z.boolean(),
      endReason: z.string().describe('objective, callee-ended, callee-hung-up, turn-limit, time-limit or error.'),
    })
    .nullable()
    .describe('What was learned, once the call ended; null before.'),
  record: z.boolean().describe('Whether the call is recorded.'),
  recording: z
    .looseObject({
      status: z
        .string()
        .describe(
          'processing (being fetched; retried), ready (url plays it), failed (lastError says why), absent (nothing recorded) or deleted.',
        ),
      durationSeconds: z.number().int(),
      url: z.string().describe('Pre-signed HTTPS URL of the audio, valid until urlExpiresAt; empty unless ready.'),
      urlExpiresAt: timestamp,
      contentType: z.string().describe('e.g. audio/wav.'),
      channels: z.number().int().describe('2: one channel per party.'),
      fetchAttempts: z.number().int(),
      lastError: z.string(),
    })
    .nullable()
    .describe('The recording of a recorded call once the carrier reported it (getCallDetails); null otherwise.'),
  transcriptDeletedAt: timestamp.describe(
    'When the transcript was deleted (on request or by retention); empty otherwise.',
  ),
});

export const callProgressSchema = z.looseObject({
  callId: z.string(),
  status: callStatus,
  stage: z.string().describe('For people: "ringing", "in progress 0:42".'),
  percent: z.number().int(),
  elapsedSeconds: z.number().int(),
  lastEvent: callEventSchema.nullable(),
  terminal: z.boolean(),
});

export const placedCallOutput = z.object({
  call: callSchema,
  // Both absent only in the result of a task (makePhoneCall run as an MCP task), fetched later by task id.
  deduplicated: z
    .boolean()
    .optional()
    .describe('True when the idempotency key matched an earlier call: nothing new was placed.'),
  idempotencyKey: z.string().optional().describe('Retry with this key to reach the same call, never a second one.'),
});

export const callDetailsOutput = z.object({ call: callSchema });

export const callHistoryOutput = z.object({
  calls: z.array(callSchema),
  nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page.'),
});

export const cancelOutput = z.object({
  call: callSchema,
  outcome: z
    .enum(CANCEL_OUTCOMES)
    .describe(
      'canceled-before-answer: it will not ring further; hung-up: it was in progress; already-ended: nothing changed.',
    ),
});

export const progressOutput = z.object({ progress: callProgressSchema });
