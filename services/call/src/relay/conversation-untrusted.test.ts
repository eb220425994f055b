/**
 * Two calls on one event loop: the first user's outcome schema has a catastrophic pattern and its
 * callee gives a long answer that would make a backtracking engine run for ages; both calls still end
 * with their outcomes stored. No waiting on time: on a blocked event loop this would never return.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, MemorySink, silentLog, testMetrics } from '../../../../test/support/relay-fakes.js';
import type { CallBrief } from '../agent/agent.js';
import { builtinAgent } from '../agent/builtin-agent.js';
import { parseOutcomeSchema } from '../agent/outcome.js';
import { Conversation } from './conversation.js';

function call(callId: string, fields: Record<string, object>) {
  const brief: CallBrief = {
    callId,
    task: 'Ask for the booking code',
    firstMessage: 'Hello, this is an AI assistant calling on behalf of a callgate user.',
    language: 'en-US',
    model: 'callgate-standard',
    schema: parseOutcomeSchema(JSON.stringify({ type: 'object', properties: fields })),
  };
  const sink = new MemorySink();
  const conversation = new Conversation({
    brief,
    agent: builtinAgent.start(brief),
    agentName: 'builtin',
    sink,
    send: () => {},
    close: () => {},
    clock: new ManualClock(),
    maxTurns: 30,
    timeLimitMs: 60_000,
    metrics: testMetrics().metrics,
    log: silentLog,
  });
  conversation.start();
  const say = async (text: string) => {
    await conversation.handle({ type: 'prompt', voicePrompt: text, lang: 'en-US', last: true });
    await conversation.idle();
  };
  return { conversation, sink, say };
}

describe('a catastrophic pattern in one call', () => {
  it('is evaluated on a long adversarial answer, and another call on the same event loop completes', async () => {
    const hostile = call('00000000-0000-4000-8000-0000000000a1', {
      code: { type: 'string', pattern: '^((((((.+)+)+)+)+)+)+!$' },
    });
    const other = call('00000000-0000-4000-8000-0000000000a2', { partySize: { type: 'integer' } });
    await hostile.say('Hello?');
    await other.say('Hello?');
    await hostile.say(`${'a'.repeat(5000)} b`);
    await hostile.say('Yes.');
    await other.say('We are 2.');
    await hostile.conversation.ended;
    await other.say('Yes.');
    await other.conversation.ended;

    assert.deepEqual(hostile.sink.outcome?.fields, {}, 'the answer does not match the pattern');
    assert.deepEqual(hostile.sink.outcome?.missingFields, ['code']);
    assert.deepEqual(other.sink.outcome?.fields, { partySize: 2 });
    assert.equal(other.sink.outcome?.objectiveReached, true);
  });
});
