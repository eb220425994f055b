/**
 * makePhoneCall as an MCP task, fetched after the call ended: 2025-11-25 experimental tasks with the
 * official v1 SDK client (params.task, tasks/get, tasks/result, tasks/cancel), and the 2026-07-28 tasks
 * extension over raw stateless requests (no SDK client speaks it yet): CreateTaskResult, tasks/get with
 * the result inlined, tasks/cancel, gating on the declared extension, and one user's task hidden from
 * another. Also completion/complete for a call id.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { eventually, heldPerson, NUMBERS } from '../support/calls.js';
import { httpClient, tokenFor } from '../support/system.js';

const TASKS = 'io.modelcontextprotocol/tasks';

let system: LocalSystem;
before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: 'silent', SANDBOX_CALL_STEP_MS: '200', SANDBOX_TALK_MS: '2500' },
  });
});
after(async () => {
  await system.stop();
});

const sandboxBase = () => system.services.find((s) => s.name === 'sandbox')?.endpoints.twilio as string;

interface RpcReply {
  status: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** One stateless 2026-07-28 request, as a client declaring (or not) the tasks extension sends it. */
async function modern(
  token: string,
  method: string,
  params: Record<string, unknown>,
  options: { tasks?: boolean; name?: string } = {},
): Promise<RpcReply> {
  const res = await fetch(system.mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': method,
      // tools/call names its tool, and tasks/* their task, in Mcp-Name (SEP-2243, SEP-2663).
      ...(options.name || params.taskId ? { 'mcp-name': String(options.name ?? params.taskId) } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'callgate-tasks-test', version: '1.0.0' },
          'io.modelcontextprotocol/clientCapabilities': options.tasks === false ? {} : { extensions: { [TASKS]: {} } },
        },
      },
    }),
  });
  const text = await res.text();
  // A JSON reply, or an SSE stream whose last data line is the reply.
  const json = res.headers.get('content-type')?.includes('text/event-stream')
    ? (text
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)))
        .findLast((m) => 'result' in m || 'error' in m) ?? {})
    : text
      ? JSON.parse(text)
      : {};
  return { status: res.status, result: json.result, error: json.error };
}

const placeCall = (to: string) => ({
  name: 'makePhoneCall',
  arguments: { to, task: 'Confirm the table for two.', idempotencyKey: `task-${randomUUID()}` },
});

describe('makePhoneCall as a 2026-07-28 task (extension)', () => {
  it('creates a task, then tasks/get inlines the result once the call has ended', async () => {
    const token = tokenFor(system, `tasks-${randomUUID()}`);
    const created = await modern(token, 'tools/call', placeCall(NUMBERS.answers), { name: 'makePhoneCall' });
    assert.equal(created.status, 200, JSON.stringify(created));
    const task = created.result ?? {};
    assert.equal(task.resultType, 'task');
    assert.equal(task.status, 'working');
    assert.equal(typeof task.taskId, 'string');
    assert.ok(Number.isInteger(task.ttlMs) && Number.isInteger(task.pollIntervalMs), JSON.stringify(task));
    assert.equal(task.task, undefined, 'flat CreateTaskResult, no nested task');
    assert.equal(task.ttl, undefined, 'no 2025 field names');

    // Durable at once: the task is found right away, and it is the call.
    const first = await modern(token, 'tasks/get', { taskId: task.taskId });
    assert.equal(first.result?.taskId, task.taskId);
    assert.equal(first.result?.resultType, 'complete');

    const done = await eventually(
      'the task to end',
      async () => {
        const r = (await modern(token, 'tasks/get', { taskId: task.taskId })).result ?? {};
        return r.status === 'working' ? undefined : r;
      },
      20_000,
      { intervalMs: 300 },
    );
    assert.equal(done.status, 'completed', JSON.stringify(done));
    const result = done.result as { structuredContent: { call: Record<string, unknown> }; content: unknown[] };
    assert.equal(result.structuredContent.call.callId, task.taskId);
    assert.equal(result.structuredContent.call.status, 'completed');
    assert.ok((result.structuredContent.call.costCredits as number) > 0, 'settled before the task completes');
    assert.equal(result.structuredContent.call.reservedCredits, 0);
    assert.ok(result.content.length > 0);

    // Cancelling an ended task is an idempotent ack.
    const ack = await modern(token, 'tasks/cancel', { taskId: task.taskId });
    assert.equal(ack.result?.resultType, 'complete');
    assert.equal(ack.result?.taskId, undefined, 'an empty ack, no task envelope');
  });

  it('tasks/cancel while it rings cancels the call; the task ends cancelled', async () => {
    const token = tokenFor(system, `tasks-${randomUUID()}`);
    // The held number rings until canceled: the cancel cannot come after a no-answer on a slow machine.
    const created = await modern(token, 'tools/call', placeCall(NUMBERS.held), { name: 'makePhoneCall' });
    const taskId = created.result?.taskId as string;
    assert.ok(taskId, JSON.stringify(created));
    const ack = await modern(token, 'tasks/cancel', { taskId });
    assert.equal(ack.error, undefined, JSON.stringify(ack));
    const done = await eventually(
      'the cancelled task to end',
      async () => {
        const r = (await modern(token, 'tasks/get', { taskId })).result ?? {};
        return r.status === 'working' ? undefined : r;
      },
      10_000,
      { intervalMs: 200 },
    );
    assert.equal(done.status, 'cancelled', JSON.stringify(done));
  });

  it('tasks/cancel while the call is talking hangs up; the task is cancelled at once and stays cancelled', async () => {
    const token = tokenFor(system, `tasks-${randomUUID()}`);
    // A number of this test's own ending in the held number's digits: it rings until answered here, then
    // talks until hung up, so the cancel always finds it talking.
    const to = '+14155510006';
    const created = await modern(token, 'tools/call', placeCall(to), { name: 'makePhoneCall' });
    const taskId = created.result?.taskId as string;
    assert.ok(taskId, JSON.stringify(created));
    await eventually(
      'the call to ring',
      async () => {
        const r = (await modern(token, 'tasks/get', { taskId })).result ?? {};
        return r.statusMessage === 'ringing' ? r : undefined;
      },
      10_000,
      { intervalMs: 100 },
    );
    await heldPerson(sandboxBase(), { to }, 'answer');
    await eventually(
      'the call to be answered',
      async () => {
        const r = (await modern(token, 'tasks/get', { taskId })).result ?? {};
        return r.statusMessage === 'in progress' ? r : undefined;
      },
      10_000,
      { intervalMs: 100 },
    );
    const ack = await modern(token, 'tasks/cancel', { taskId });
    assert.equal(ack.error, undefined, JSON.stringify(ack));
    assert.equal((await modern(token, 'tasks/get', { taskId })).result?.status, 'cancelled', 'cancelled at once');
    // The hang-up ends the call "completed" in the carrier's terms; the task stays cancelled throughout.
    const seen = new Set<string>();
    await eventually(
      'the hung-up call to be charged',
      async () => {
        const r = (await modern(token, 'tasks/get', { taskId })).result ?? {};
        seen.add(String(r.status));
        const details = await modern(
          token,
          'tools/call',
          { name: 'getCallDetails', arguments: { callId: taskId } },
          {
            name: 'getCallDetails',
          },
        );
        const call = (details.result?.structuredContent as { call?: { status: string; reservedCredits: number } })
          ?.call;
        return call?.status === 'completed' && call.reservedCredits === 0 ? call : undefined;
      },
      10_000,
      { intervalMs: 150 },
    );
    assert.equal((await modern(token, 'tasks/get', { taskId })).result?.status, 'cancelled');
    assert.deepEqual([...seen], ['cancelled'], 'never anything but cancelled after the cancel');
  });

  it('without the declared extension: a plain tool result, and tasks/get is -32021', async () => {
    const token = tokenFor(system, `tasks-${randomUUID()}`);
    const plain = await modern(token, 'tools/call', placeCall(NUMBERS.answers), {
      tasks: false,
      name: 'makePhoneCall',
    });
    assert.equal(plain.result?.resultType, 'complete');
    const call = (plain.result?.structuredContent as { call: { callId: string } } | undefined)?.call ?? { callId: '' };
    const refused = await modern(token, 'tasks/get', { taskId: call.callId }, { tasks: false });
    assert.equal(refused.error?.code, -32021, JSON.stringify(refused));
  });

  it("unknown ids and another user's task are -32602; tasks/result and tasks/list do not exist", async () => {
    const owner = tokenFor(system, `tasks-${randomUUID()}`);
    const created = await modern(owner, 'tools/call', placeCall(NUMBERS.answers), { name: 'makePhoneCall' });
    const taskId = created.result?.taskId as string;
    const stranger = tokenFor(system, `tasks-${randomUUID()}`);
    for (const method of ['tasks/get', 'tasks/cancel']) {
      const theirs = await modern(stranger, method, { taskId });
      assert.equal(theirs.error?.code, -32602, `${method}: ${JSON.stringify(theirs)}`);
    }
    assert.equal((await modern(owner, 'tasks/get', { taskId: 'no-such-task' })).error?.code, -32602);
    assert.equal((await modern(owner, 'tasks/result', { taskId })).error?.code, -32601);
    assert.equal((await modern(owner, 'tasks/list', {})).error?.code, -32601);
  });
});

describe('makePhoneCall as a 2025-11-25 task (official v1 client)', () => {
  it('runs as a task and the client fetches the result after completion', async () => {
    const client = await httpClient(system, tokenFor(system, `tasks-${randomUUID()}`));
    try {
      const capabilities = client.getServerCapabilities() as { tasks?: { requests?: { tools?: unknown } } };
      assert.ok(capabilities.tasks?.requests?.tools, 'tool calls may be tasks');
      const { tools } = await client.listTools();
      const tool = tools.find((t) => t.name === 'makePhoneCall') as { execution?: { taskSupport?: string } };
      assert.equal(tool.execution?.taskSupport, 'optional');

      const kinds: string[] = [];
      let taskId = '';
      let result: Record<string, unknown> | undefined;
      for await (const message of client.experimental.tasks.callToolStream(
        placeCall(NUMBERS.answers),
        CallToolResultSchema,
        { task: { ttl: 60_000 } },
      )) {
        kinds.push(message.type);
        if (message.type === 'taskCreated') taskId = message.task.taskId;
        if (message.type === 'result') result = message.result as Record<string, unknown>;
        if (message.type === 'error') assert.fail(String(message.error));
      }
      assert.equal(kinds[0], 'taskCreated', kinds.join());
      assert.equal(kinds.at(-1), 'result');
      const call = (result?.structuredContent as { call: { callId: string; status: string } } | undefined)?.call;
      assert.equal(call?.callId, taskId);
      assert.equal(call?.status, 'completed');

      // Fetched again, later: the task remembers its end.
      const task = await client.experimental.tasks.getTask(taskId);
      assert.equal(task.status, 'completed');
      const again = await client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema);
      assert.deepEqual((again.structuredContent as { call: { callId: string } }).call.callId, taskId);
      await assert.rejects(client.experimental.tasks.cancelTask(taskId), /already ended/);
    } finally {
      await client.close();
    }
  });

  it('a refused call in task mode is a JSON-RPC error with the reason, not a task', async () => {
    const client = await httpClient(system, tokenFor(system, `tasks-${randomUUID()}`));
    try {
      const messages: { type: string; error?: unknown }[] = [];
      for await (const message of client.experimental.tasks.callToolStream(
        { name: 'makePhoneCall', arguments: { to: NUMBERS.answers, task: 'x', callerId: '+14155559999' } },
        CallToolResultSchema,
        { task: { ttl: 60_000 } },
      )) {
        messages.push(message as { type: string; error?: unknown });
      }
      assert.deepEqual(
        messages.map((m) => m.type),
        ['error'],
      );
      assert.match(String(messages[0]?.error), /not a number you may call from/);
    } finally {
      await client.close();
    }
  });

  it('tasks/cancel stops a ringing call and answers with the cancelled task', async () => {
    const client = await httpClient(system, tokenFor(system, `tasks-${randomUUID()}`));
    try {
      let taskId = '';
      for await (const message of client.experimental.tasks.callToolStream(
        placeCall(NUMBERS.held),
        CallToolResultSchema,
        { task: { ttl: 60_000 } },
      )) {
        if (message.type === 'taskCreated') {
          taskId = message.task.taskId;
          break;
        }
      }
      const cancelled = await client.experimental.tasks.cancelTask(taskId);
      assert.equal(cancelled.status, 'cancelled');
      assert.equal((await client.experimental.tasks.getTask(taskId)).status, 'cancelled');
    } finally {
      await client.close();
    }
  });
});

describe('completion/complete for a call id', () => {
  it("completes the caller's own call ids by prefix, never another user's", async () => {
    const client = await httpClient(system, tokenFor(system, `complete-${randomUUID()}`));
    const other = await httpClient(system, tokenFor(system, `complete-${randomUUID()}`));
    try {
      const placed = await client.callTool(placeCall(NUMBERS.answers));
      const { callId } = (placed.structuredContent as { call: { callId: string } }).call;
      const ref = { type: 'ref/resource' as const, uri: 'callgate://calls/{callId}' };
      const mine = await client.complete({ ref, argument: { name: 'callId', value: callId.slice(0, 3) } });
      assert.ok(mine.completion.values.includes(callId), JSON.stringify(mine));
      assert.ok(mine.completion.values.every((v) => v.startsWith(callId.slice(0, 3))));
      const theirs = await other.complete({ ref, argument: { name: 'callId', value: callId.slice(0, 3) } });
      assert.ok(!theirs.completion.values.includes(callId), "another user's call id is never offered");
      await assert.rejects(
        client.complete({
          ref: { type: 'ref/resource', uri: 'callgate://nope/{x}' },
          argument: { name: 'x', value: '' },
        }),
        /not found/,
      );
    } finally {
      await client.close();
      await other.close();
    }
  });
});
