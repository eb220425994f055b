import { randomUUID } from 'node:crypto';
import { errorDetailOf, isGrpcError, isUnreachable } from '@callgate/common';
import { status } from '@grpc/grpc-js';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import {
  callDetailsOutput,
  callHistoryOutput,
  cancelOutput,
  placedCallOutput,
  progressOutput,
} from './call-schemas.js';
import { CALL_STATUSES, cancelOutcomeOf, isTerminalStatus, toProtoStatus } from './call-status.js';
import { callView, callViewOrNull, progressView } from './call-view.js';
import { invalidCursor } from './cursor.js';
import { grpcTool } from './result.js';
import { callId, e164, language, text, unstorable } from './schemas.js';
import { needs, SCOPES } from './scopes.js';
import { progressMessages, SETTLEMENT_GRACE_MS, waitForCall } from './watch-call.js';

/** How long PlaceCall may take: the carrier's own timeout (15 s) plus the credit hold and the record. */
const placeCallDeadlineMs = 30_000;

/**
 * A PlaceCall that timed out or lost its connection may still have placed the call. Such failures are
 * not "retry in a few seconds": they name the key that finds (or safely repeats) the same call.
 */
export function outcomeUnknown(error: unknown, idempotencyKey: string): unknown {
  // Unreachable (no answer in time, no connection), or the call was cancelled while in flight: either way
  // the call service may have acted on it.
  if (!isUnreachable(error) && !(isGrpcError(error) && error.code === status.CANCELLED)) return error;
  // The call service says it placed nothing (user-credit was down before the intent was recorded): a plain retryable error.
  if (errorDetailOf(error)?.notPlaced) return error;
  return Object.assign(new Error(error.message), {
    code: status.FAILED_PRECONDITION,
    details:
      `the call may or may not have been placed (${status[error.code]}: ${error.details}). ` +
      `Check getCallHistory, or retry makePhoneCall with idempotencyKey "${idempotencyKey}": it never places a second call.`,
    metadata: error.metadata,
  });
}

/**
 * A window that ends before it starts matches no call: refused saying so, rather than answered with an
 * empty page a client would read as "no calls". Compared as instants, so offsets do not matter.
 */
function emptyWindow(ctx: z.core.ParsePayload<{ since?: string; until?: string }>): void {
  const { since, until } = ctx.value;
  if (since === undefined || until === undefined || Date.parse(since) <= Date.parse(until)) return;
  ctx.issues.push({
    code: 'custom',
    path: ['since'],
    message: `${since} is after until (${until}), so no call can match; pass since at or before until`,
    input: ctx.value,
  });
}

export function registerCallTools(server: McpServer, backends: Backends): void {
  const makePhoneCall = server.registerTool(
    'makePhoneCall',
    {
      title: 'Place a phone call',
      description:
        'Places a real phone call in which an AI voice agent pursues the task with the person who answers. ' +
        'Credits for the worst case (model price × max duration) are held until the call ends. ' +
        'Pass an idempotencyKey so that retrying never places a second call.',
      // Strict, as every tool's arguments: a misspelt argument (callerID, maxDuration) is refused, never
      // dropped, so a call is never placed with settings other than the ones the client meant.
      inputSchema: z.strictObject({
        to: e164.describe('Number to call, E.164.'),
        task: text(4000).min(1).describe('What the agent should achieve on the call.'),
        firstMessage: text(1000).optional().describe('The agent’s opening line.'),
        voice: text(64).optional().describe('A voice id from getVoiceOptions; default from preferences.'),
        model: text(64).optional().describe('A model id from getModelOptions; default from preferences.'),
        language: language.optional(),
        callerId: e164.optional().describe('Caller id to show; must be one of your numbers.'),
        maxDurationSeconds: z.number().int().min(30).max(3600).optional(),
        machineDetection: z.boolean().optional(),
        record: z
          .boolean()
          .optional()
          .describe(
            "Record the call (both parties; the callee is told first). Default: your account's recording preference (off unless set). getCallDetails then gives the recording.",
          ),
        outcomeSchema: z.record(z.string(), z.unknown()).optional().describe('JSON Schema of what to learn.'),
        metadata: z
          .record(z.string().max(500), text(500))
          // On the record, not the key schema: zod reports a bad key only as "Invalid key in record".
          .refine(
            (m) => Object.keys(m).every((key) => unstorable(key) === undefined),
            'keys must not contain NUL (\\u0000) or a lone UTF-16 surrogate',
          )
          .optional()
          .describe('Your own labels, returned with the call.'),
        idempotencyKey: text(128)
          .min(8)
          .optional()
          .describe('Any unique string (a UUID): retrying with the same key never places a second call.')
          .meta({ examples: ['5f1c9d2e-8a47-4b0e-9c3d-7e6f1a2b3c4d'] }),
        wait: z
          .enum(['none', 'answered', 'completed'])
          .default('none')
          .describe(
            'none: return at once with the call id. answered/completed: return when the call is answered or has ended, ' +
              'sending progress notifications meanwhile (pass a progressToken, and let progress reset your request timeout).',
          ),
      }),
      outputSchema: placedCallOutput,
      scopeChallenge: needs(SCOPES.callsWrite),
      annotations: { destructiveHint: true, openWorldHint: true, idempotentHint: false, readOnlyHint: false },
    },
    grpcTool(
      async (args, call) => {
        // Without a key from the caller, one is made here and returned, so a retry can name the same call.
        const idempotencyKey = args.idempotencyKey ?? randomUUID();
        let r: Awaited<ReturnType<typeof backends.call.placeCall>>;
        try {
          r = await backends.call.placeCall(
            {
              userId: call.userId,
              to: args.to,
              from: args.callerId ?? '',
              task: args.task,
              firstMessage: args.firstMessage ?? '',
              voice: args.voice ?? '',
              model: args.model ?? '',
              language: args.language ?? '',
              maxDurationSeconds: args.maxDurationSeconds ?? 0,
              machineDetection: args.machineDetection ?? false,
              ...(args.record !== undefined && { record: args.record }),
              outcomeSchemaJson: args.outcomeSchema ? JSON.stringify(args.outcomeSchema) : '',
              metadata: args.metadata ?? {},
              idempotencyKey,
            },
            // Dialling may take the carrier's full timeout; this must outlast it, or the call is placed
            // after we gave up and an agent retries with a new key.
            { signal: call.signal, deadlineMs: placeCallDeadlineMs },
          );
        } catch (error) {
          throw outcomeUnknown(error, idempotencyKey);
        }
        if (args.wait === 'none' || !r.call) {
          return { call: callViewOrNull(r.call), deduplicated: r.deduplicated, idempotencyKey };
        }
        let step = 0;
        const placedId = r.call.callId;
        try {
          await waitForCall({
            backends,
            userId: call.userId,
            callId: placedId,
            until: args.wait,
            // Ringing takes up to a minute; then the call's own time limit; then a margin for the last callback.
            timeoutMs: (r.call.maxDurationSeconds + 120) * 1000,
            signal: call.signal,
            // The end is announced a moment before its credits are settled: an agent waiting for the end
            // gets the final cost with it (the settlement's own event, given up to two seconds).
            ...(args.wait === 'completed' && { settlement: { graceMs: SETTLEMENT_GRACE_MS } }),
            // Each change, each transcript turn as it is spoken, and a heartbeat while the call is quiet.
            onEvent: async (event) => {
              for (const message of progressMessages(placedId, event)) await call.progress(++step, message);
            },
          });
        } catch {
          // The call is placed: a broken wait must not read as "retry", which would place another one.
          // The result below is the call as it is now; getCallProgress follows it further.
        }
        const now = await backends.call.getCall({ userId: call.userId, callId: placedId }).catch(() => r);
        if (now.call && isTerminalStatus(now.call.status)) backends.forgetBalance?.(call.userId);
        return { call: callViewOrNull(now.call), deduplicated: r.deduplicated, idempotencyKey };
      },
      { users: backends.users },
    ),
  );
  // 2025-11-25 clients may run it as a task (params.task), 2026 clients by declaring the tasks
  // extension (tasks/task-methods.ts). The SDK's registerTool takes no `execution`; the tool keeps it.
  makePhoneCall.execution = { taskSupport: 'optional' };

  server.registerTool(
    'getCallDetails',
    {
      title: 'Call details',
      description: 'One of your calls: status, timeline, cost, transcript and outcome.',
      inputSchema: z.strictObject({ callId }),
      outputSchema: callDetailsOutput,
      scopeChallenge: needs(SCOPES.callsRead),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(
      async (args, call) => {
        const r = await backends.call.getCall({ userId: call.userId, callId: args.callId }, { signal: call.signal });
        return { call: callViewOrNull(r.call) };
      },
      { users: backends.users },
    ),
  );

  server.registerTool(
    'getCallHistory',
    {
      title: 'Call history',
      description: 'Your calls, newest first, a page at a time. Pass nextCursor back as cursor for the next page.',
      // since/until, not from/to: makePhoneCall's `to` is a phone number, and both bounds are inclusive.
      // Strict, so a client still sending the old from/to is told, rather than served an unfiltered list.
      inputSchema: z
        .strictObject({
          cursor: z.string().max(512).optional().describe('nextCursor of the previous page; absent for the first.'),
          pageSize: z.number().int().min(1).max(100).default(20),
          status: z.array(z.enum(CALL_STATUSES)).max(CALL_STATUSES.length).optional().describe('Only calls in these.'),
          since: z.iso.datetime({ offset: true }).optional().describe('Only calls placed at or after (RFC 3339).'),
          until: z.iso.datetime({ offset: true }).optional().describe('Only calls placed at or before (RFC 3339).'),
          number: z
            .string()
            .regex(/^\+?\d{1,20}$/, '1 to 20 digits, an optional leading +')
            .optional()
            .describe('Only calls whose destination or caller id contains these digits (a search by number).'),
        })
        .check(emptyWindow),
      outputSchema: callHistoryOutput,
      scopeChallenge: needs(SCOPES.callsRead),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(
      async (args, call) => {
        const r = await backends.call
          .listCalls(
            {
              userId: call.userId,
              pageSize: args.pageSize,
              pageToken: args.cursor ?? '',
              statuses: (args.status ?? []).map(toProtoStatus),
              createdAfter: args.since ?? '',
              createdBefore: args.until ?? '',
              number: args.number ?? '',
            },
            { signal: call.signal },
          )
          .catch(invalidCursor);
        return { calls: r.calls.map(callView), nextCursor: r.nextPageToken || null };
      },
      { users: backends.users },
    ),
  );

  server.registerTool(
    'cancelCall',
    {
      title: 'Cancel a call',
      description: 'Stops a call: before it is answered it is cancelled, while in progress it is hung up.',
      inputSchema: z.strictObject({ callId, reason: text(500).optional() }),
      outputSchema: cancelOutput,
      scopeChallenge: needs(SCOPES.callsWrite),
      annotations: { destructiveHint: true, openWorldHint: true, idempotentHint: true, readOnlyHint: false },
    },
    grpcTool(
      async (args, call) => {
        const r = await backends.call.cancelCall(
          { userId: call.userId, callId: args.callId, reason: args.reason ?? '' },
          { signal: call.signal },
        );
        return { call: callViewOrNull(r.call), outcome: cancelOutcomeOf(r.outcome) };
      },
      { users: backends.users },
    ),
  );

  server.registerTool(
    'getCallProgress',
    {
      title: 'Call progress',
      description: 'Where a call is now: stage, elapsed time and the last event.',
      inputSchema: z.strictObject({ callId }),
      outputSchema: progressOutput,
      scopeChallenge: needs(SCOPES.callsRead),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    },
    grpcTool(
      async (args, call) => {
        const r = await backends.call.getCallProgress(
          { userId: call.userId, callId: args.callId },
          { signal: call.signal },
        );
        return { progress: r.progress ? progressView(r.progress) : null };
      },
      { users: backends.users },
    ),
  );
}
