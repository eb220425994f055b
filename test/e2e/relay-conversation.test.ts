/**
 * The voice agent end to end, with no credentials: the built-in agent talks over ConversationRelay
 * with the sandbox's scripted people. Through MCP (makePhoneCall with wait: completed, then
 * getCallDetails) and through gRPC (WatchCall sees the turns live; each persona's transcript and
 * outcome). The sandbox fetches the call's TwiML, opens the relay socket with a signed handshake and
 * plays its persona, so every piece here is the real one.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SANDBOX_NUMBERS } from '@callgate/sandbox';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { type CallSystem, newUser, placeRequest, settledCall, startCallSystem, watchAll } from '../support/calls.js';
import { httpClient, tokenFor } from '../support/system.js';

interface Turn {
  speaker: string;
  text: string;
  startedAt: string;
  interrupted: boolean;
}
/** A call as MCP clients get it: the outcome's fields are an object. */
interface CallView {
  callId: string;
  status: string;
  transcript: Turn[];
  outcome: {
    fields: Record<string, unknown>;
    missingFields: string[];
    summary: string;
    objectiveReached: boolean;
    endReason: string;
  } | null;
}

const SCHEMA = {
  type: 'object',
  properties: { partySize: { type: 'integer' }, time: { type: 'string' } },
  required: ['partySize', 'time'],
};
const TASK = 'Book a table for dinner tonight.';

let rig: CallSystem;
before(async () => {
  rig = await startCallSystem();
});
after(async () => {
  await rig.stop();
});

const said = (transcript: Turn[]) =>
  transcript.map((t) => `${t.speaker}: ${t.text}${t.interrupted ? ' [interrupted]' : ''}`);

describe('the voice agent through MCP', () => {
  it('makePhoneCall wait: completed returns the transcript and the outcome; getCallDetails returns the same later', async () => {
    const client = await httpClient(rig.system, tokenFor(rig.system, `relay-${randomUUID()}`));
    try {
      const progress: string[] = [];
      const result = await client.callTool(
        {
          name: 'makePhoneCall',
          arguments: { to: SANDBOX_NUMBERS.cooperative, task: TASK, outcomeSchema: SCHEMA, wait: 'completed' },
        },
        CallToolResultSchema,
        { onprogress: (p) => progress.push(p.message ?? ''), resetTimeoutOnProgress: true },
      );
      assert.equal(result.isError, undefined, JSON.stringify(result.content));
      const call = (result.structuredContent as { call: CallView }).call;
      assert.equal(call.status, 'completed');
      const lines = said(call.transcript);
      assert.match(lines[0] ?? '', /^agent: .*AI assistant/, 'the greeting discloses the AI agent');
      assert.equal(lines[1], 'callee: Hi, yes, how can I help you?');
      assert.match(lines[2] ?? '', /^agent: I'm calling about the following: Book a table.*party size\?$/);
      assert.equal(lines[3], 'callee: 4 people, please.');
      assert.match(lines[4] ?? '', /^agent: Thank you\. Could you tell me the time\?$/);
      assert.equal(lines[5], 'callee: 7:30 PM.');
      assert.match(lines[6] ?? '', /To confirm: party size 4, time 7:30 PM\. Is that right\?$/);
      assert.equal(lines[7], "callee: Yes, that's right.");
      assert.match(lines[8] ?? '', /^agent: .*Goodbye!$/);
      assert.equal(lines.length, 9, lines.join('\n'));
      assert.ok(call.outcome, 'the outcome is there when the call is reported ended');
      assert.deepEqual(call.outcome.fields, { partySize: 4, time: '7:30 PM' }, 'an object, not a JSON string');
      assert.deepEqual(call.outcome.missingFields, []);
      assert.equal(call.outcome.objectiveReached, true);
      assert.equal(call.outcome.endReason, 'objective');
      assert.match(call.outcome.summary, /party size: 4; time: 7:30 PM \(confirmed\)/);
      assert.ok(
        progress.some((m) => m.startsWith(`call ${call.callId}: callee: 4 people`)),
        `turns are streamed live: ${progress.join(' | ')}`,
      );

      const details = await client.callTool({ name: 'getCallDetails', arguments: { callId: call.callId } });
      const later = (details.structuredContent as { call: CallView }).call;
      assert.deepEqual(later.transcript, call.transcript);
      assert.deepEqual(later.outcome, call.outcome);
    } finally {
      await client.close();
    }
  });
});

describe('the voice agent with each sandbox persona (gRPC)', () => {
  async function converse(to: string) {
    const userId = await newUser(rig.credit, 'relay');
    const placed = await rig.call.placeCall(
      placeRequest(userId, { to, task: TASK, outcomeSchemaJson: JSON.stringify(SCHEMA) }),
    );
    const callId = placed.call?.callId as string;
    const watched = await watchAll(rig.call, { userId, callId }, 10_000);
    const call = await settledCall(rig.call, userId, callId, 10_000);
    return { call, watched };
  }

  it('WatchCall streams every turn as it is spoken, before the terminal event', async () => {
    const { call, watched } = await converse(SANDBOX_NUMBERS.cooperative);
    assert.equal(watched.error, undefined);
    const turns = watched.events.filter((e) => e.turn).map((e) => e.turn?.text);
    assert.deepEqual(
      turns,
      call.transcript.map((t) => t.text),
    );
    const inProgress = watched.events.findIndex((e) => e.event?.status === 'CALL_STATUS_IN_PROGRESS');
    const firstTurn = watched.events.findIndex((e) => e.turn);
    assert.ok(inProgress >= 0 && firstTurn > inProgress, 'turns come after the answer');
    assert.equal(watched.events.at(-1)?.terminal, true);
    assert.equal(watched.events.at(-1)?.event?.status, 'CALL_STATUS_COMPLETED');
  });

  it('a question back is answered with the disclosure, and the field is asked again', async () => {
    const { call } = await converse(SANDBOX_NUMBERS.asksBack);
    const lines = said(call.transcript);
    const asked = lines.indexOf('callee: Sorry, who is calling, and what is this about?');
    assert.ok(asked > 0, lines.join('\n'));
    assert.match(
      lines[asked + 1] ?? '',
      /^agent: I'm an AI assistant calling on behalf of a callgate user.*party size\?$/,
    );
    assert.deepEqual(JSON.parse(call.outcome?.fieldsJson ?? '{}'), { partySize: 4, time: '7:30 PM' });
  });

  it('an interruption is recorded with what was spoken until then', async () => {
    const { call } = await converse(SANDBOX_NUMBERS.interrupts);
    const interrupted = call.transcript.filter((t) => t.interrupted);
    assert.equal(interrupted.length, 1, said(call.transcript).join('\n'));
    assert.deepEqual(interrupted[0] && { speaker: interrupted[0].speaker, text: interrupted[0].text }, {
      speaker: 'agent',
      text: "I'm calling about the",
    });
    const next = call.transcript[call.transcript.indexOf(interrupted[0] as Turn) + 1];
    assert.equal(next?.text, 'Sorry, can you say who you are first?');
    assert.deepEqual(JSON.parse(call.outcome?.fieldsJson ?? '{}'), { partySize: 4, time: '7:30 PM' });
  });

  it('keys pressed answer a question', async () => {
    const { call } = await converse(SANDBOX_NUMBERS.pressesKeys);
    assert.ok(
      call.transcript.some((t) => t.speaker === 'callee' && t.text === '(pressed 4) 4'),
      said(call.transcript).join('\n'),
    );
    assert.deepEqual(JSON.parse(call.outcome?.fieldsJson ?? '{}'), { partySize: 4, time: '7:30 PM' });
  });

  it('an early hang-up leaves a partial transcript and an outcome that lists the missing fields', async () => {
    const { call } = await converse(SANDBOX_NUMBERS.hangsUpEarly);
    assert.equal(call.status, 'CALL_STATUS_COMPLETED');
    const lines = said(call.transcript);
    assert.equal(lines.at(-1), 'agent: Thank you. Could you tell me the time?', lines.join('\n'));
    assert.deepEqual(JSON.parse(call.outcome?.fieldsJson ?? ''), { partySize: 4 });
    assert.deepEqual(call.outcome?.missingFields, ['time']);
    assert.equal(call.outcome?.objectiveReached, false);
    assert.equal(call.outcome?.endReason, 'callee-hung-up');
    assert.match(call.outcome?.summary ?? '', /Not learned: time/);
  });

  it('a silent answered number (0001) still ends after its talk time, with no turns but the greeting', async () => {
    const userId = await newUser(rig.credit, 'relay');
    const placed = await rig.call.placeCall(placeRequest(userId, { outcomeSchemaJson: JSON.stringify(SCHEMA) }));
    const call = await settledCall(rig.call, userId, placed.call?.callId as string, 10_000);
    assert.equal(call.status, 'CALL_STATUS_COMPLETED');
    assert.deepEqual(call.transcript, []);
    assert.equal(call.outcome, null);
  });
});
