import { isGrpcError } from '@callgate/common';
import type { callV1 } from '@callgate/protos';
import { status } from '@grpc/grpc-js';
import {
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type McpServer,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Backends } from '../backends.js';
import { resourceErrorFrom } from '../grpc-errors.js';
import { wrapSdkHandler } from '../sdk-internals.js';
import { needs, SCOPES } from '../tools/scopes.js';
import { waitForCall } from '../tools/watch-call.js';
import { callResult, isTerminalCall, taskFields, taskStateOf } from './task-view.js';

/** The 2026-07-28 tasks extension (SEP-2663); a client declares it to receive tasks. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
/** 2025-11-25 experimental tasks: a task's messages name it under this _meta key. */
const RELATED_TASK = 'io.modelcontextprotocol/related-task';
/** The one tool that runs as a task: a call lasts minutes, everything else answers at once. */
const TASK_TOOL = 'makePhoneCall';

const taskParams = z.looseObject({ taskId: z.string().min(1).max(128) });

/**
 * A task is a call, so each method asks what the tool doing the same asks: reading it calls:read
 * (getCall), cancelling it calls:write (cancelCall). Checked where the SDK checks a tool's scope, before the
 * handler, so the refusal is the same as a tool's: HTTP 403 insufficient_scope, -32003 over WebSocket.
 */
const TASK_SCOPES: Record<string, (typeof SCOPES)[keyof typeof SCOPES]> = {
  'tasks/get': SCOPES.callsRead,
  'tasks/result': SCOPES.callsRead,
  'tasks/update': SCOPES.callsRead,
  'tasks/cancel': SCOPES.callsWrite,
};

/**
 * makePhoneCall as an MCP task, on both revisions that have tasks: the 2026-07-28 extension (the
 * server decides; the client declares the extension per request) and 2025-11-25 experimental tasks
 * (the client asks with `params.task`). The task is the call (task-view.ts), so the methods here
 * are reads and a cancel of the call service's own state.
 */
export function registerCallTasks(server: McpServer, backends: Backends): void {
  const protocol = server.server;
  protocol.registerCapabilities({
    extensions: { [TASKS_EXTENSION]: {} },
    // The 2026 codec drops this 2025 slot from its answers, so each revision sees only its own.
    tasks: { cancel: {}, requests: { tools: { call: {} } } },
  });
  const sdkChallenge = server.resolveScopeChallenge;
  server.resolveScopeChallenge = async (context) => {
    const scope = TASK_SCOPES[context.request.method];
    if (!scope) return sdkChallenge(context);
    const challenge = await needs(scope)(context);
    return challenge && { ...challenge, errorDescription: `${context.request.method} needs the scope ${scope}` };
  };
  const modern = () => (protocol.getNegotiatedProtocolVersion() ?? '') >= '2026-07-28';
  /** Experimental tasks arrived with 2025-11-25; sessions of older revisions run the tool as before. */
  const legacyTasks = () => (protocol.getNegotiatedProtocolVersion() ?? '') >= '2025-11-25';

  /** A 2026 request may use tasks only when it declares the extension. */
  const requireExtension = (ctx: ServerContext) => {
    if (modern() && !declaresExtension(ctx)) {
      throw new MissingRequiredClientCapabilityError(
        { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
        `Declare the ${TASKS_EXTENSION} extension in clientCapabilities to use tasks`,
      );
    }
  };

  /** The task's call; its scope was checked before the handler (TASK_SCOPES). */
  const readCall = async (taskId: string, ctx: ServerContext): Promise<callV1.Call__Output> => {
    const auth = ctx.http?.authInfo;
    try {
      const userId = await backends.users.ensure(auth);
      const { call } = await backends.call.getCall({ userId, callId: taskId }, { signal: ctx.mcpReq.signal });
      if (!call) throw new Error('GetCall answered without a call');
      return call;
    } catch (error) {
      // Another user's call, or no call: the same answer, so ids cannot be probed.
      if (isGrpcError(error) && [status.NOT_FOUND, status.INVALID_ARGUMENT].includes(error.code)) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown task: ${taskId}`);
      }
      resourceErrorFrom(error, `task:${taskId}`);
    }
  };

  wrapSdkHandler(server, 'tools/call', async (request, ctx, original) => {
    const params = request.params ?? {};
    if (params.name !== TASK_TOOL) return original(request, ctx);
    const revision = modern()
      ? declaresExtension(ctx)
        ? 'modern'
        : undefined
      : params.task && legacyTasks()
        ? 'legacy'
        : undefined;
    if (!revision) return original(request, ctx);
    // The call is placed as with wait "none": recorded and dialled before this returns, so a
    // tasks/get right after it always finds the task.
    const args = { ...(params.arguments as Record<string, unknown> | undefined), wait: 'none' };
    const placed = (await original({ ...request, params: { ...params, arguments: args } }, ctx)) as CallToolResult;
    const call = (placed.structuredContent as { call?: callV1.Call__Output } | undefined)?.call;
    if (placed.isError || !call) {
      // 2026 may answer a task request with a plain result: the refusal is the tool's own, as without a
      // task. 2025 must answer a task request with a task or an error, so the refusal becomes the error.
      if (revision === 'modern') return placed;
      const text = placed.content?.map((c) => (c.type === 'text' ? c.text : '')).join(' ') || 'the call was not placed';
      const retryable = placed._meta?.['callgate/retryable'] === true;
      throw new ProtocolError(retryable ? ProtocolErrorCode.InternalError : ProtocolErrorCode.InvalidParams, text, {
        retryable,
      });
    }
    const fields = taskFields(call, revision);
    return revision === 'modern' ? { resultType: 'task', ...fields } : { task: fields };
  });

  protocol.setRequestHandler('tasks/get', { params: taskParams }, async (params, ctx) => {
    requireExtension(ctx);
    const call = await readCall(params.taskId, ctx);
    if (!modern()) return taskFields(call, 'legacy');
    const fields = taskFields(call, 'modern');
    if (fields.status === 'working') return fields;
    backends.forgetBalance?.(call.userId); // settled: the next balance read must show it
    return { ...fields, result: callResult(call) };
  });

  protocol.setRequestHandler('tasks/cancel', { params: taskParams }, async (params, ctx) => {
    requireExtension(ctx);
    const call = await readCall(params.taskId, ctx);
    const state = taskStateOf(call);
    if (state.status !== 'working' || isTerminalCall(call)) {
      // 2026: cancelling an ended task is an idempotent ack. 2025: it is an error that says why.
      if (modern()) return {};
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Task ${call.callId} already ended (${state.status})`);
    }
    let cancelled = call;
    try {
      const userId = await backends.users.ensure(ctx.http?.authInfo);
      const r = await backends.call.cancelCall(
        { userId, callId: call.callId, reason: 'task cancelled' },
        { signal: ctx.mcpReq.signal },
      );
      cancelled = r.call ?? call;
    } catch (error) {
      if (!(isGrpcError(error) && error.code === status.FAILED_PRECONDITION)) {
        resourceErrorFrom(error, `task:${call.callId}`);
      }
      // It ended between the read and the cancel: the same as cancelling an ended task.
      if (modern()) return {};
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Task ${call.callId} already ended`);
    }
    if (modern()) return {};
    // The carrier had ended it before the cancel arrived: not cancelled, and 2025 says so as an error.
    const after = taskFields(cancelled, 'legacy');
    if (after.status !== 'cancelled') {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Task ${call.callId} already ended (${after.status})`);
    }
    return after;
  });

  // 2026: a task of ours never asks the client for input, so there is nothing to update; a known
  // task is acknowledged, as the extension asks.
  protocol.setRequestHandler('tasks/update', { params: taskParams }, async (params, ctx) => {
    requireExtension(ctx);
    await readCall(params.taskId, ctx);
    return {};
  });

  // 2025-11-25 only (the 2026 revision removed it; the SDK answers -32601 there): waits for the end.
  protocol.setRequestHandler('tasks/result', { params: taskParams }, async (params, ctx) => {
    let call = await readCall(params.taskId, ctx);
    const userId = call.userId;
    // Working: not ended, or ended with its credits still settling; either way the settlement ends the wait.
    if (taskStateOf(call).status === 'working') {
      call = await settled(backends, userId, call, ctx.mcpReq.signal);
    }
    const result = callResult(call);
    return { ...result, _meta: { [RELATED_TASK]: { taskId: call.callId } } };
  });
}

/**
 * The call once its task has left "working": ended, and its credits settled. Waits on the call's events
 * (WatchCall until its settlement): the end is announced a moment before the settlement (normally
 * milliseconds; the call service's recovery job settles what a crash left, within a minute).
 */
async function settled(backends: Backends, userId: string, call: callV1.Call__Output, signal: AbortSignal) {
  await waitForCall({
    backends,
    userId,
    callId: call.callId,
    until: 'completed',
    timeoutMs: (call.maxDurationSeconds + 120) * 1000,
    signal,
    onEvent: async () => {},
    settlement: { graceMs: TASK_SETTLEMENT_GRACE_MS },
  });
  const { call: now } = await backends.call.getCall({ userId, callId: call.callId }, { signal });
  if (!now) throw new Error('GetCall answered without a call');
  backends.forgetBalance?.(userId);
  return now;
}

/** The recovery pass settles what a crash left within a minute: a task result waits that long for it. */
const TASK_SETTLEMENT_GRACE_MS = 60_000;

function declaresExtension(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, { extensions?: Record<string, unknown> }> | undefined;
  const extensions = envelope?.[CLIENT_CAPABILITIES_META_KEY]?.extensions;
  return typeof extensions === 'object' && extensions !== null && TASKS_EXTENSION in extensions;
}
