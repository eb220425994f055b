/**
 * The conversation logic of one ConversationRelay session, with a clock moved by hand, a sink in
 * memory, and either the built-in agent or an agent the test paces: interruptions, keys, the turn and
 * time limits, the person hanging up, and an agent that fails. No sockets and no waiting on time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ManualClock,
  MemorySink,
  PacedAgent,
  settle,
  silentLog,
  testMetrics,
} from '../../../../test/support/relay-fakes.js';
import type { AgentSession, CallBrief } from '../agent/agent.js';
import { builtinAgent } from '../agent/builtin-agent.js';
import { parseOutcomeSchema } from '../agent/outcome.js';
import { Conversation } from './conversation.js';
import type { OutboundMessage } from './protocol.js';

const GREETING = 'Hello, this is an AI assistant calling on behalf of a callgate user.';

function brief(
  schema: object | undefined = {
    type: 'object',
    properties: { partySize: { type: 'integer' }, time: { type: 'string' } },
  },
): CallBrief {
  return {
    callId: '00000000-0000-4000-8000-000000000001',
    task: 'Book a table for two',
    firstMessage: GREETING,
    language: 'en-US',
    model: 'callgate-standard',
    schema: schema ? parseOutcomeSchema(JSON.stringify(schema)) : undefined,
  };
}

function start(options: { agent?: AgentSession; maxTurns?: number; timeLimitMs?: number; schema?: object } = {}) {
  const clock = new ManualClock();
  const sink = new MemorySink();
  const sent: OutboundMessage[] = [];
  const { metrics, registry } = testMetrics();
  let closed = 0;
  const b = brief(options.schema);
  const conversation = new Conversation({
    brief: b,
    agent: options.agent ?? builtinAgent.start(b),
    agentName: options.agent ? 'paced' : 'builtin',
    sink,
    send: (m) => sent.push(m),
    close: () => {
      closed += 1;
    },
    clock,
    maxTurns: options.maxTurns ?? 30,
    timeLimitMs: options.timeLimitMs ?? 60_000,
    metrics,
    log: silentLog,
  });
  conversation.start();
  const say = async (text: string) => {
    await conversation.handle({ type: 'prompt', voicePrompt: text, lang: 'en-US', last: true });
    await conversation.idle();
  };
  /** The agent's replies as spoken: text tokens joined per talk cycle (up to last: true). */
  const replies = () => {
    const out: string[] = [];
    let current = '';
    for (const m of sent) {
      if (m.type !== 'text') continue;
      current += m.token;
      if (m.last) {
        out.push(current);
        current = '';
      }
    }
    return out;
  };
  const ends = () => sent.filter((m) => m.type === 'end').map((m) => JSON.parse(m.handoffData) as { reason: string });
  return { conversation, clock, sink, sent, say, replies, ends, registry, closed: () => closed };
}

const lines = (sink: MemorySink) =>
  sink.turns.map((t) => `${t.speaker}: ${t.text}${t.interrupted ? ' [interrupted]' : ''}`);

describe('Conversation', () => {
  it('the built-in agent states the objective, asks each field, confirms, says goodbye, and stores the outcome before ending', async () => {
    const c = start();
    await c.say('Hello?');
    await c.say('We are 2.');
    await c.say('8 pm');
    assert.deepEqual(c.ends(), []);
    await c.say('Yes.');
    await c.conversation.ended;
    assert.deepEqual(c.replies(), [
      "I'm calling about the following: Book a table for two. Could you tell me the party size?",
      'Thank you. Could you tell me the time?',
      'Thank you. To confirm: party size 2, time 8 pm. Is that right?',
      'Perfect, thank you very much. Goodbye!',
    ]);
    assert.deepEqual(c.ends(), [{ reason: 'objective', callId: brief().callId }]);
    assert.equal(c.sent.at(-1)?.type, 'end', 'end comes after the last words');
    assert.equal(c.closed(), 1);
    assert.equal(lines(c.sink)[0], `agent: ${GREETING}`);
    assert.equal(c.sink.turns.length, 9);
    assert.deepEqual(c.sink.outcome, {
      fields: { partySize: 2, time: '8 pm' },
      missingFields: [],
      summary: 'Objective: Book a table for two. Learned party size: 2; time: 8 pm (confirmed).',
      objectiveReached: true,
      endReason: 'objective',
    });
  });

  it('every text token but the last of a reply has last: false; the reply ends with exactly one last: true', async () => {
    const c = start();
    await c.say('Hello?');
    const texts = c.sent.filter((m) => m.type === 'text');
    assert.ok(texts.length > 3);
    assert.deepEqual(
      texts.map((m) => m.type === 'text' && m.last),
      [...Array(texts.length - 1).fill(false), true],
    );
  });

  it('an interrupt while the agent streams stops it; the turn keeps what was spoken, marked interrupted', async () => {
    const agent = new PacedAgent(['Let me ', 'explain ', 'the '], ['whole ', 'thing.']);
    const c = start({ agent });
    await c.conversation.handle({ type: 'prompt', voicePrompt: 'Hi', lang: 'en-US', last: true });
    await settle();
    assert.equal(c.sent.length, 2, 'two tokens out, the third held back for last: true');
    await c.conversation.handle({
      type: 'interrupt',
      utteranceUntilInterrupt: 'Let me',
      durationUntilInterruptMs: 400,
    });
    await c.conversation.idle();
    assert.equal(agent.calls[0]?.signal.aborted, true, 'the agent was told to stop');
    assert.deepEqual(
      c.sent.map((m) => m.type === 'text' && m.token),
      ['Let me ', 'explain '],
      'nothing more was sent, not even last: true (Twilio has stopped speaking)',
    );
    await c.conversation.handle({ type: 'prompt', voicePrompt: 'Wait, who is this?', lang: 'en-US', last: true });
    await settle();
    agent.release();
    await c.conversation.idle();
    assert.deepEqual(lines(c.sink), [
      `agent: ${GREETING}`,
      'callee: Hi',
      'agent: Let me [interrupted]',
      'callee: Wait, who is this?',
    ]);
    assert.deepEqual(agent.calls[1]?.history.at(-2), { speaker: 'agent', text: 'Let me', interrupted: true });
  });

  it('an interrupt after the reply was sent (still being spoken) marks that turn interrupted with the spoken part', async () => {
    const c = start();
    await c.say('Hello?');
    await c.conversation.handle({
      type: 'interrupt',
      utteranceUntilInterrupt: "I'm calling about",
      durationUntilInterruptMs: 900,
    });
    await c.say('2 people.');
    await c.conversation.idle();
    assert.deepEqual(lines(c.sink).slice(0, 4), [
      `agent: ${GREETING}`,
      'callee: Hello?',
      "agent: I'm calling about [interrupted]",
      'callee: 2 people.',
    ]);
  });

  it('interrupting the greeting records the greeting as interrupted', async () => {
    const c = start();
    await c.conversation.handle({
      type: 'interrupt',
      utteranceUntilInterrupt: 'Hello, this is',
      durationUntilInterruptMs: 700,
    });
    await c.say('Who?');
    assert.deepEqual(lines(c.sink).slice(0, 2), ['agent: Hello, this is [interrupted]', 'callee: Who?']);
  });

  it('keys pressed are one answer, ended by # or by a pause', async () => {
    const c = start();
    await c.say('Hello?');
    for (const digit of ['1', '2']) await c.conversation.handle({ type: 'dtmf', digit });
    c.clock.advance(1999);
    await c.conversation.idle();
    assert.equal(c.sink.turns.length, 2, 'no answer before the pause');
    c.clock.advance(1);
    await c.conversation.idle();
    await settle();
    assert.deepEqual(lines(c.sink).slice(3, 4), ['callee: (pressed 1 2) 12']);
    for (const digit of ['7', '#']) await c.conversation.handle({ type: 'dtmf', digit });
    await c.conversation.idle();
    await settle();
    assert.equal(lines(c.sink)[5], 'callee: (pressed 7) 7');
  });

  it('keys pressed without # or a pause are bounded: every 32 digits are one answer, counted', async () => {
    const c = start({ timeLimitMs: 600_000 });
    await c.say('Hello?');
    // A key every second for 70 keys: never a 2 s pause, never a #.
    for (let i = 0; i < 70; i++) {
      await c.conversation.handle({ type: 'dtmf', digit: String(i % 10) });
      c.clock.advance(1000);
    }
    await c.conversation.idle();
    await settle();
    const pressed = lines(c.sink).filter((line) => line.startsWith('callee: (pressed'));
    const digits = (from: number, n: number) => Array.from({ length: n }, (_, i) => String((from + i) % 10)).join('');
    assert.deepEqual(
      pressed.map((line) => line.split(') ')[1]),
      [digits(0, 32), digits(32, 32)],
      'two full answers while the keys go on',
    );
    c.clock.advance(2000);
    await c.conversation.idle();
    await settle();
    assert.equal(
      lines(c.sink)
        .filter((line) => line.startsWith('callee: (pressed'))
        .at(-1)
        ?.split(') ')[1],
      digits(64, 6),
    );
    const overflow = (await c.registry.getMetricsAsJSON()).find((m) => m.name === 'call_relay_dtmf_overflow_total');
    assert.equal(overflow?.values[0]?.value, 2);
  });

  it('the person asking to end the call ends it politely; what was learned so far is kept', async () => {
    const c = start();
    await c.say('Hello?');
    await c.say('6 of us.');
    await c.say("Actually I'm not interested, bye.");
    await c.conversation.ended;
    assert.equal(c.replies().at(-1), 'Understood. Thank you for your time. Goodbye!');
    assert.deepEqual(c.ends(), [{ reason: 'callee-ended', callId: brief().callId }]);
    assert.deepEqual(c.sink.outcome?.fields, { partySize: 6 });
    assert.deepEqual(c.sink.outcome?.missingFields, ['time']);
    assert.equal(c.sink.outcome?.endReason, 'callee-ended');
  });

  it('the turn limit ends the call: goodbye, outcome with the missing fields, end', async () => {
    const c = start({ maxTurns: 2 });
    await c.say('Hello?');
    await c.say('3 of us.');
    await c.say('Hmm.');
    await c.conversation.ended;
    assert.equal(c.replies().at(-1), "I'm sorry, I have to end the call now. Thank you for your time. Goodbye!");
    assert.deepEqual(c.ends(), [{ reason: 'turn-limit', callId: brief().callId }]);
    assert.deepEqual(c.sink.outcome?.fields, { partySize: 3 });
    assert.deepEqual(c.sink.outcome?.missingFields, ['time']);
    assert.equal(c.sink.outcome?.endReason, 'turn-limit');
    assert.equal(c.sink.outcome?.objectiveReached, false);
    assert.equal(c.closed(), 1);
  });

  it('the time limit ends the call even while the agent is mid-reply', async () => {
    const agent = new PacedAgent(['One ', 'moment ', 'please '], ['...']);
    const c = start({ agent, timeLimitMs: 90_000 });
    await c.conversation.handle({ type: 'prompt', voicePrompt: 'Hi', lang: 'en-US', last: true });
    await settle();
    c.clock.advance(89_999);
    assert.deepEqual(c.ends(), []);
    c.clock.advance(1);
    await c.conversation.ended;
    assert.equal(agent.calls[0]?.signal.aborted, true);
    assert.deepEqual(c.ends(), [{ reason: 'time-limit', callId: brief().callId }]);
    assert.deepEqual(lines(c.sink).slice(1), [
      'callee: Hi',
      'agent: One moment [interrupted]',
      "agent: I'm sorry, I have to end the call now. Thank you for your time. Goodbye!",
    ]);
    assert.equal(c.sink.outcome?.endReason, 'time-limit');
    assert.deepEqual(c.sink.outcome?.missingFields, ['partySize', 'time']);
  });

  it('the person hanging up leaves the partial transcript, the fields learned and the missing ones; no end is sent', async () => {
    const c = start();
    await c.say('Hello?');
    await c.say('Four.');
    await c.conversation.hangUp();
    await c.conversation.hangUp();
    assert.deepEqual(c.ends(), []);
    assert.equal(lines(c.sink).at(-1), 'agent: Thank you. Could you tell me the time?');
    assert.deepEqual(c.sink.outcome?.fields, { partySize: 4 });
    assert.deepEqual(c.sink.outcome?.missingFields, ['time']);
    assert.equal(c.sink.outcome?.endReason, 'callee-hung-up');
    assert.equal(c.sink.outcomes, 1, 'ended once');
    await c.say('Hello again?');
    assert.equal(lines(c.sink).at(-1), 'agent: Thank you. Could you tell me the time?', 'nothing after the end');
  });

  it('an answer the schema refuses is missing, never kept', async () => {
    const c = start({
      schema: { type: 'object', properties: { partySize: { type: 'integer', minimum: 1, maximum: 12 } } },
    });
    await c.say('Hello?');
    await c.say('40 of us.');
    await c.say('Yes.');
    await c.conversation.ended;
    assert.deepEqual(c.sink.outcome?.fields, {});
    assert.deepEqual(c.sink.outcome?.missingFields, ['partySize']);
    assert.equal(c.sink.outcome?.objectiveReached, false);
  });

  it('an agent that fails mid-call says sorry and ends the call with reason error', async () => {
    const failing: AgentSession = {
      // biome-ignore lint/correctness/useYield: it fails before its first token, as a refused LLM request does
      async *reply() {
        throw new Error('HTTP 500');
      },
      outcome: async () => ({ fields: {}, summary: 'none', objectiveReached: false }),
    };
    const c = start({ agent: failing });
    await c.say('Hello?');
    await c.conversation.ended;
    assert.match(c.replies().at(-1) ?? '', /technical trouble/);
    assert.deepEqual(c.ends(), [{ reason: 'error', callId: brief().callId }]);
    assert.equal(c.sink.outcome?.endReason, 'error');
  });

  it('records our latency from each final prompt to the first token, per agent', async () => {
    const c = start();
    await c.say('Hello?');
    await c.say('2');
    const metrics = await c.registry.getMetricsAsJSON();
    const overhead = metrics.find((m) => m.name === 'call_relay_first_token_overhead_seconds');
    const count = overhead?.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'));
    assert.equal(count?.value, 2);
    assert.equal(count?.labels.agent, 'builtin');
  });

  it('partial prompts (last: false) are not turns; the final one is', async () => {
    const c = start();
    await c.conversation.handle({ type: 'prompt', voicePrompt: 'Hel', lang: 'en-US', last: false });
    await c.say('Hello?');
    assert.deepEqual(lines(c.sink).slice(1, 2), ['callee: Hello?']);
    assert.equal(c.replies().length, 1);
  });
});
