/**
 * Calls end to end through the MCP gateway with the official SDK client over Streamable HTTP: place a
 * call, read its details until it has ended and been charged, page the history with the cursor, cancel
 * a call while it rings, and see that one user's calls are invisible to another. The sandbox moves a
 * call one stage every 500 ms here, so a test can act while the phone rings. Polls through the gateway
 * are spaced (POLL_MS), since the gateway limits each user's request rate.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { eventually, NUMBERS } from '../support/calls.js';
import { httpClient, tokenFor } from '../support/system.js';

interface CallView {
  callId: string;
  userId: string;
  to: string;
  status: string;
  durationSeconds: number;
  costCredits: number;
  reservedCredits: number;
  carrierCallId: string;
  timeline: { sequence: number; status: string }[];
}

const STEP_MS = 500;
/** Spacing of getCallDetails polls: a few per stage, well under the gateway's per-user rate limit. */
const POLL_MS = 150;

let system: LocalSystem;
before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      SANDBOX_CALL_STEP_MS: String(STEP_MS),
      SANDBOX_TALK_MS: '200',
    },
  });
});
after(async () => {
  await system.stop();
});

/** A client for a new user (created by the gateway on first sight, with the signup credits). */
async function newCaller(): Promise<Client> {
  return httpClient(system, tokenFor(system, `mcp-caller-${randomUUID()}`));
}

async function tool<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, undefined, `${name}: ${JSON.stringify(result.content)}`);
  const text = (result.content as { type: string; text: string }[])[0]?.text ?? '';
  assert.deepEqual(JSON.parse(text), result.structuredContent, 'the text block says what the structured content does');
  return result.structuredContent as T;
}

async function balance(client: Client): Promise<{ available: number; held: number }> {
  const { contents } = await client.readResource({ uri: 'callgate://me/credits/balance' });
  const { available, held } = JSON.parse(String((contents[0] as { text: string }).text)) as {
    available: number;
    held: number;
  };
  return { available, held };
}

/** getCallDetails until the call has ended and nothing is held for it any more. */
/** The final statuses as the README promises them to MCP clients (the gRPC enum names are the call service's). */
const FINAL = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

function endedCall(client: Client, callId: string, timeoutMs = 10 * STEP_MS): Promise<CallView> {
  return eventually(
    `call ${callId} to end and settle`,
    async () => {
      const { call } = await tool<{ call: CallView }>(client, 'getCallDetails', { callId });
      return FINAL.has(call.status) && call.reservedCredits === 0 ? call : undefined;
    },
    timeoutMs,
    { intervalMs: POLL_MS },
  );
}

describe('calls through MCP', () => {
  let client: Client;
  before(async () => {
    client = await newCaller();
  });
  after(async () => {
    await client.close();
  });

  it('makePhoneCall places the call; getCallDetails shows it completed with its timeline and cost', async () => {
    const placed = await tool<{ call: CallView; deduplicated: boolean }>(client, 'makePhoneCall', {
      to: NUMBERS.answers,
      task: 'Ask whether the shop is open on Sunday.',
    });
    assert.equal(placed.deduplicated, false);
    assert.equal(placed.call.to, NUMBERS.answers);
    assert.equal(placed.call.reservedCredits, 50);
    assert.deepEqual(await balance(client), { available: 450, held: 50 });

    const call = await endedCall(client, placed.call.callId);
    assert.equal(call.status, 'completed');
    assert.deepEqual(
      call.timeline.map((e) => [e.sequence, e.status]),
      [
        [1, 'queued'],
        [2, 'initiated'],
        [3, 'ringing'],
        [4, 'in-progress'],
        [5, 'completed'],
      ],
    );
    assert.equal(call.durationSeconds, 1);
    assert.equal(call.costCredits, 10, 'one started minute on the standard model');
    assert.deepEqual(await balance(client), { available: 490, held: 0 });

    const { progress } = await tool<{ progress: { terminal: boolean; percent: number } }>(client, 'getCallProgress', {
      callId: call.callId,
    });
    assert.deepEqual([progress.terminal, progress.percent], [true, 100]);
  });

  it('makePhoneCall with the same idempotencyKey returns the same call, deduplicated', async () => {
    const idempotencyKey = `mcp-${randomUUID()}`;
    const args = { to: NUMBERS.busy, task: 'Ask for Sam.', idempotencyKey };
    const first = await tool<{ call: CallView; deduplicated: boolean }>(client, 'makePhoneCall', args);
    const second = await tool<{ call: CallView; deduplicated: boolean }>(client, 'makePhoneCall', args);
    assert.deepEqual([first.deduplicated, second.deduplicated], [false, true]);
    assert.equal(second.call.callId, first.call.callId);
    assert.equal((await endedCall(client, first.call.callId)).status, 'busy');
  });

  it('makePhoneCall beyond the credits is a tool error saying what is needed and available', async () => {
    const poor = await newCaller();
    try {
      const result = await poor.callTool({
        name: 'makePhoneCall',
        arguments: { to: NUMBERS.answers, task: 'x', model: 'callgate-advanced', maxDurationSeconds: 3600 },
      });
      assert.equal(result.isError, true);
      assert.match(JSON.stringify(result.content), /needs 1500 credits held, and 500 are available/);
      assert.equal((result._meta as Record<string, unknown>)['callgate/grpc-status'], 'FAILED_PRECONDITION');
      assert.deepEqual(await balance(poor), { available: 500, held: 0 });
    } finally {
      await poor.close();
    }
  });

  it('cancelCall while the phone rings cancels it before answer and releases the hold', async () => {
    const caller = await newCaller();
    try {
      // The held number rings until canceled, so the cancel never races the answer.
      const placed = await tool<{ call: CallView }>(caller, 'makePhoneCall', { to: NUMBERS.held, task: 'x' });
      const { callId } = placed.call;
      await eventually(
        'the call to ring',
        async () => {
          const { progress } = await tool<{ progress: { status: string } }>(caller, 'getCallProgress', { callId });
          return progress.status === 'ringing' ? progress : undefined;
        },
        5 * STEP_MS,
        { intervalMs: 50 },
      );
      const canceled = await tool<{ call: CallView; outcome: string }>(caller, 'cancelCall', {
        callId,
        reason: 'not needed any more',
      });
      assert.equal(canceled.outcome, 'canceled-before-answer');
      assert.equal(canceled.call.status, 'canceled');
      const call = await endedCall(caller, callId);
      assert.deepEqual(
        call.timeline.map((e) => e.status),
        ['queued', 'initiated', 'ringing', 'canceled'],
      );
      assert.equal(call.costCredits, 0);
      assert.deepEqual(await balance(caller), { available: 500, held: 0 });

      const again = await caller.callTool({ name: 'cancelCall', arguments: { callId } });
      assert.equal(again.isError, true, 'a call that has ended cannot be canceled');
      assert.match(JSON.stringify(again.content), /already ended \(canceled at .*\); nothing to cancel/);
      assert.equal((again._meta as Record<string, unknown>)['callgate/grpc-status'], 'FAILED_PRECONDITION');
    } finally {
      await caller.close();
    }
  });
});

describe('getCallHistory', () => {
  it('pages with the cursor, newest first, filters by status and since/until, and refuses a crafted cursor', async () => {
    const client = await newCaller();
    try {
      const placed: string[] = [];
      for (const to of [NUMBERS.busy, NUMBERS.fails, NUMBERS.busy]) {
        const { call } = await tool<{ call: CallView }>(client, 'makePhoneCall', { to, task: 'x' });
        placed.push(call.callId);
      }
      const newestFirst = [...placed].reverse();
      type Page = { calls: CallView[]; nextCursor: string | null };
      const first = await tool<Page>(client, 'getCallHistory', { pageSize: 2 });
      assert.deepEqual(
        first.calls.map((c) => c.callId),
        newestFirst.slice(0, 2),
      );
      assert.equal(typeof first.nextCursor, 'string');
      const second = await tool<Page>(client, 'getCallHistory', { pageSize: 2, cursor: first.nextCursor });
      assert.deepEqual(
        second.calls.map((c) => c.callId),
        newestFirst.slice(2),
      );
      assert.equal(second.nextCursor, null);

      for (const callId of placed) await endedCall(client, callId);
      const busy = await tool<Page>(client, 'getCallHistory', { status: ['busy'] });
      assert.deepEqual(
        busy.calls.map((c) => c.callId),
        [placed[2], placed[0]],
      );
      const failed = await tool<Page>(client, 'getCallHistory', { status: ['failed'] });
      assert.deepEqual(
        failed.calls.map((c) => c.callId),
        [placed[1]],
      );
      assert.deepEqual(
        busy.calls.map((c) => c.status),
        ['busy', 'busy'],
        'statuses read back as they are filtered',
      );

      const since = await tool<Page>(client, 'getCallHistory', { since: '2000-01-01T00:00:00Z' });
      assert.equal(since.calls.length, 3);
      const until = await tool<Page>(client, 'getCallHistory', { until: '2000-01-01T00:00:00Z' });
      assert.deepEqual(until.calls, []);
      // A cursor that decodes but names no position (crafted by hand) is refused as a cursor, not "internal error".
      const crafted = Buffer.from(JSON.stringify({ t: 'yesterday', id: 'x' })).toString('base64url');
      const refused = await client.callTool({ name: 'getCallHistory', arguments: { cursor: crafted } });
      assert.equal(refused.isError, true);
      assert.match(JSON.stringify(refused.content), /invalid cursor/);
      assert.doesNotMatch(JSON.stringify(refused.content), /pageToken|internal error/);
    } finally {
      await client.close();
    }
  });
});

describe("another user's calls", () => {
  it('are not found by getCallDetails, getCallProgress or cancelCall, and absent from getCallHistory', async () => {
    const owner = await newCaller();
    const other = await newCaller();
    try {
      const { call } = await tool<{ call: CallView }>(owner, 'makePhoneCall', { to: NUMBERS.busy, task: 'x' });
      for (const name of ['getCallDetails', 'getCallProgress', 'cancelCall']) {
        const result = await other.callTool({ name, arguments: { callId: call.callId } });
        assert.equal(result.isError, true, name);
        assert.deepEqual(result.content, [{ type: 'text', text: `call ${call.callId} was not found` }], name);
        assert.equal((result._meta as Record<string, unknown>)['callgate/grpc-status'], 'NOT_FOUND', name);
      }
      const history = await tool<{ calls: CallView[] }>(other, 'getCallHistory', {});
      assert.deepEqual(history.calls, []);
      assert.equal((await endedCall(owner, call.callId)).status, 'busy', 'untouched by the other user');
    } finally {
      await owner.close();
      await other.close();
    }
  });
});
