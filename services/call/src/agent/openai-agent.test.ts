/**
 * The OpenAI-compatible agent against a local HTTP server (127.0.0.1, ephemeral port) that speaks the
 * chat-completions API: streamed replies as server-sent events of chat.completion.chunk objects
 * (recorded from the format the API sends, tool-call fragments included), structured outcomes as a
 * chat.completion with JSON content, and failures. The requests the agent makes are checked too.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManualClock, MemorySink, settle, silentLog, testMetrics } from '../../../../test/support/relay-fakes.js';
import { Conversation } from '../relay/conversation.js';
import type { OutboundMessage } from '../relay/protocol.js';
import type { AgentChunk, CallBrief, HistoryTurn } from './agent.js';
import { AgentProviderError, openAiAgent, readOutcome } from './openai-agent.js';
import { parseOutcomeSchema } from './outcome.js';

interface Seen {
  path: string;
  authorization: string;
  body: Record<string, unknown>;
}

type Answer = (res: ServerResponse, body: Record<string, unknown>) => void;

let server: Server;
let baseURL: string;
const seen: Seen[] = [];
let answer: Answer;

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => {
      raw += chunk.toString('utf8');
    });
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      seen.push({ path: req.url ?? '', authorization: String(req.headers.authorization ?? ''), body });
      answer(res, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(() => {
  server.close();
});
beforeEach(() => {
  seen.length = 0;
});

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
  object: 'chat.completion.chunk',
  created: 1741569952,
  model: 'gpt-4o-mini-2024-07-18',
  system_fingerprint: 'fp_06737a9306',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});

/** A streamed reply, one server-sent event per chunk, ended by [DONE], as the API sends it. */
function sse(chunks: object[]): Answer {
  return (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    for (const c of chunks) res.write(`data: ${JSON.stringify(c)}\n\n`);
    res.end('data: [DONE]\n\n');
  };
}

const SPOKEN = [
  chunk({ role: 'assistant', content: '', refusal: null }),
  chunk({ content: 'Hi' }),
  chunk({ content: ', how many' }),
  chunk({ content: ' people?' }),
  chunk({}, 'stop'),
];

const ENDING = [
  chunk({ role: 'assistant', content: 'Thanks, goodbye!' }),
  chunk({
    tool_calls: [{ index: 0, id: 'call_x1', type: 'function', function: { name: 'end_call', arguments: '' } }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"reason":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"callee-ended"}' } }] }),
  chunk({}, 'tool_calls'),
];

const brief: CallBrief = {
  callId: '00000000-0000-4000-8000-000000000002',
  task: 'Book a table for tonight',
  firstMessage: 'Hello, this is an AI assistant calling for a callgate user.',
  language: 'en-US',
  model: 'callgate-standard',
  schema: parseOutcomeSchema(
    JSON.stringify({
      type: 'object',
      properties: { partySize: { type: 'integer', description: 'How many guests' }, time: { type: 'string' } },
    }),
  ),
};

const history: HistoryTurn[] = [
  { speaker: 'agent', text: brief.firstMessage, interrupted: false },
  { speaker: 'callee', text: 'Hello?', interrupted: false },
];

const agent = () => openAiAgent({ baseURL, apiKey: 'sk-test', models: { 'callgate-standard': 'gpt-4o-mini' } });

async function all(stream: AsyncIterable<AgentChunk>): Promise<AgentChunk[]> {
  const out: AgentChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

describe('OpenAI-compatible agent', () => {
  it('streams the reply token by token and asks the server for the mapped model with the system prompt', async () => {
    answer = sse(SPOKEN);
    const chunks = await all(agent().start(brief).reply(history, new AbortController().signal));
    assert.deepEqual(chunks, [
      { type: 'token', text: 'Hi' },
      { type: 'token', text: ', how many' },
      { type: 'token', text: ' people?' },
    ]);
    const request = seen[0];
    assert.equal(request?.path, '/v1/chat/completions');
    assert.equal(request?.authorization, 'Bearer sk-test');
    assert.equal(request?.body.model, 'gpt-4o-mini');
    assert.equal(request?.body.stream, true);
    const messages = request?.body.messages as { role: string; content: string }[];
    assert.equal(messages[0]?.role, 'system');
    for (const part of [
      'Book a table for tonight',
      'partySize (integer): How many guests',
      'time (string)',
      'AI agent',
      'Never invent',
    ]) {
      assert.ok(messages[0]?.content.includes(part), `system prompt has ${part}`);
    }
    assert.deepEqual(messages.slice(1), [
      { role: 'assistant', content: brief.firstMessage },
      { role: 'user', content: 'Hello?' },
    ]);
    assert.deepEqual(
      ((request?.body.tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name),
      ['end_call'],
    );
  });

  it('reads end_call from streamed tool-call fragments and asks to end after the reply', async () => {
    answer = sse(ENDING);
    const chunks = await all(agent().start(brief).reply(history, new AbortController().signal));
    assert.deepEqual(chunks, [
      { type: 'token', text: 'Thanks, goodbye!' },
      { type: 'end', reason: 'callee-ended' },
    ]);
  });

  it('extracts the outcome with structured output: a JSON schema of the fields, not strict', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-2',
          object: 'chat.completion',
          created: 1741569952,
          model: 'gpt-4o-mini-2024-07-18',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: '{"fields":{"partySize":4},"summary":"Table for 4; time not given.","objectiveReached":false}',
                refusal: null,
              },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 90, completion_tokens: 20, total_tokens: 110 },
        }),
      );
    };
    const outcome = await agent().start(brief).outcome(history, new AbortController().signal);
    assert.deepEqual(outcome, {
      fields: { partySize: 4 },
      summary: 'Table for 4; time not given.',
      objectiveReached: false,
    });
    const format = seen[0]?.body.response_format as {
      type: string;
      json_schema: { strict: boolean; schema: { properties: { fields: unknown } } };
    };
    assert.equal(format.type, 'json_schema');
    assert.equal(format.json_schema.strict, false);
    assert.deepEqual(format.json_schema.schema.properties.fields, {
      type: 'object',
      properties: { partySize: { type: 'integer', description: 'How many guests' }, time: { type: 'string' } },
      additionalProperties: false,
    });
    assert.equal(seen[0]?.body.stream, undefined);
  });

  it('a server error becomes an AgentProviderError naming the HTTP status', async () => {
    answer = (res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } }));
    };
    await assert.rejects(all(agent().start(brief).reply(history, new AbortController().signal)), (error: unknown) => {
      assert.ok(error instanceof AgentProviderError);
      assert.match(error.message, /HTTP 500/);
      return true;
    });
    assert.equal(seen.length, 1, 'never retried within a turn');
  });

  it('an unreadable structured answer learns nothing', () => {
    assert.deepEqual(readOutcome('not json').fields, {});
    assert.deepEqual(readOutcome('{"fields":[1],"summary":3}'), { fields: {}, summary: '', objectiveReached: false });
  });

  it('in a conversation, the streamed tokens go out as ConversationRelay text frames; end_call ends the call', async () => {
    const sent: OutboundMessage[] = [];
    const sink = new MemorySink();
    const replies = [SPOKEN, ENDING];
    answer = (res, body) => {
      if (body.stream) return sse(replies.shift() ?? [])(res, body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: '{"fields":{"partySize":"four","time":"8pm"},"summary":"s","objectiveReached":true}',
              },
              finish_reason: 'stop',
            },
          ],
        }),
      );
    };
    const session = agent().start(brief);
    const conversation = new Conversation({
      brief,
      agent: session,
      agentName: 'openai-compatible',
      sink,
      send: (m) => sent.push(m),
      close: () => undefined,
      clock: new ManualClock(),
      maxTurns: 10,
      timeLimitMs: 60_000,
      metrics: testMetrics().metrics,
      log: silentLog,
    });
    conversation.start();
    await conversation.handle({ type: 'prompt', voicePrompt: 'Hello?', lang: 'en-US', last: true });
    await conversation.idle();
    assert.deepEqual(sent, [
      { type: 'text', token: 'Hi', last: false },
      { type: 'text', token: ', how many', last: false },
      { type: 'text', token: ' people?', last: true },
    ]);
    await conversation.handle({ type: 'prompt', voicePrompt: "We're done, bye.", lang: 'en-US', last: true });
    await conversation.idle();
    await conversation.ended;
    await settle();
    // The first token goes out at once (latency); the talk cycle then closes with an empty last token.
    assert.deepEqual(sent.slice(3), [
      { type: 'text', token: 'Thanks, goodbye!', last: false },
      { type: 'text', token: '', last: true },
      { type: 'end', handoffData: JSON.stringify({ reason: 'callee-ended', callId: brief.callId }) },
    ]);
    // The model's "four" is not an integer: Ajv refuses it, so it is missing rather than guessed.
    assert.deepEqual(sink.outcome?.fields, { time: '8pm' });
    assert.deepEqual(sink.outcome?.missingFields, ['partySize']);
    assert.equal(sink.outcome?.objectiveReached, false);
  });
});
