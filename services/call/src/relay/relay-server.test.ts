/**
 * The relay WebSocket on a real HTTP server (127.0.0.1, ephemeral port) with a real `ws` client:
 * the handshake's X-Twilio-Signature is checked for the public wss:// URL (missing, forged, or for
 * another URL: 403 before any upgrade), the first frame must be a setup naming a call in progress,
 * bad frames are ignored without ending the call, and the voice URL answers the ConversationRelay TwiML.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadCatalog } from '@callgate/common';
import twilio from 'twilio';
import WebSocket from 'ws';
import { MemorySink, silentLog, testMetrics } from '../../../../test/support/relay-fakes.js';
import { within } from '../../../../test/support/within.js';
import { builtinAgent } from '../agent/builtin-agent.js';
import type { CallRow, CallStore } from '../call-store.js';
import { ActiveConversations } from './active-conversations.js';
import { realClock } from './conversation.js';
import { attachRelay } from './relay-server.js';
import { TwilioUrls } from './signature.js';
import { voiceTwiml } from './voice-webhook.js';

const TOKEN = 'relay-test-auth-token';
const CALL_ID = '11111111-2222-4333-8444-555555555555';
const CALL_SID = `CA${'ab'.repeat(16)}`;

const call = {
  call_id: CALL_ID,
  carrier_call_id: CALL_SID,
  status: 'in-progress',
  task: 'Ask for the opening hours',
  first_message: 'Hello, this is an AI assistant calling for a callgate user & friends.',
  language: 'en-US',
  model: 'callgate-standard',
  voice: 'en-US-Journey-O',
  max_duration_seconds: 120,
  outcome_schema_json: JSON.stringify({ type: 'object', properties: { opensAt: { type: 'string' } } }),
} as CallRow;

/** Only what the relay reads: a call by id. */
const store = { byId: async (id: string) => (id === CALL_ID ? call : undefined) } as unknown as CallStore;

let server: Server;
let sink: MemorySink;
let relay: { close(): Promise<void> };
let urls: TwilioUrls;
let wsUrl: string;

before(async () => {
  server = createServer((_req, res) => res.writeHead(404).end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  urls = new TwilioUrls(() => base, TOKEN);
  wsUrl = urls.relayUrl();
  sink = new MemorySink();
  relay = attachRelay(server, {
    store,
    sink,
    agentFor: () => builtinAgent,
    urls,
    active: new ActiveConversations(),
    clock: realClock,
    metrics: testMetrics().metrics,
    log: silentLog,
    maxTurns: 10,
    endMarginMs: 5000,
  });
});
after(async () => {
  await relay.close();
  server.close();
});

/** Opens the relay socket with the given signature header; resolves with the socket or the HTTP refusal. */
function connect(signature: string | undefined, url = wsUrl): Promise<{ ws: WebSocket } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: signature === undefined ? {} : { 'x-twilio-signature': signature } });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.once('error', reject);
  });
}

const sign = (url: string, token = TOKEN) => twilio.getExpectedTwilioSignature(token, url, {});

/** Frames from the server until it closes the socket (or the bound passes, which fails the test). */
function collect(ws: WebSocket): { frames: Record<string, unknown>[]; closed: Promise<number> } {
  const frames: Record<string, unknown>[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>));
  const closed = within(
    new Promise<number>((resolve) => ws.once('close', (code) => resolve(code))),
    'the relay socket to close',
  );
  return { frames, closed };
}

const setup = (callId = CALL_ID, callSid = CALL_SID) =>
  JSON.stringify({ type: 'setup', sessionId: 'VX1', callSid, accountSid: 'AC1', customParameters: { callId } });

describe('relay handshake', () => {
  it('refuses a handshake without X-Twilio-Signature with 403', async () => {
    assert.deepEqual(await connect(undefined), { status: 403 });
  });

  it('refuses a signature made with another auth token', async () => {
    assert.deepEqual(await connect(sign(wsUrl, 'not-the-token')), { status: 403 });
  });

  it('refuses a signature of another URL (a query added after signing)', async () => {
    assert.deepEqual(await connect(sign(wsUrl), `${wsUrl}?callId=${CALL_ID}`), { status: 403 });
  });

  it('refuses a signature over the http:// form of the URL: Twilio signs the wss:// URL it opens', async () => {
    assert.deepEqual(await connect(sign(wsUrl.replace(/^ws/, 'http'))), { status: 403 });
  });

  it('answers 404 for another path, signed or not', async () => {
    const other = wsUrl.replace('/twilio/relay', '/twilio/other');
    assert.deepEqual(await connect(sign(other), other), { status: 404 });
  });

  it('accepts a correctly signed handshake and talks after setup', async () => {
    const opened = await connect(sign(wsUrl));
    assert.ok('ws' in opened);
    const { frames, closed } = collect(opened.ws);
    opened.ws.send(setup());
    opened.ws.send('{not json');
    opened.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 42 }));
    opened.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Hello?', lang: 'en-US', last: true }));
    opened.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Nine in the morning.', lang: 'en-US', last: true }));
    opened.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Yes.', lang: 'en-US', last: true }));
    assert.equal(await closed, 1000);
    const spoken = frames.filter((f) => f.type === 'text' && f.last).length;
    assert.equal(spoken, 3, 'one reply per final prompt; the bad frames were ignored');
    assert.deepEqual(frames.at(-1), {
      type: 'end',
      handoffData: JSON.stringify({ reason: 'objective', callId: CALL_ID }),
    });
    assert.deepEqual(sink.outcome?.fields, { opensAt: 'Nine in the morning' });
  });
});

describe('relay setup', () => {
  it('closes a socket whose setup names no known call', async () => {
    const opened = await connect(sign(wsUrl));
    assert.ok('ws' in opened);
    const { closed } = collect(opened.ws);
    opened.ws.send(setup('99999999-2222-4333-8444-555555555555'));
    assert.equal(await closed, 1008);
  });

  it('closes a socket whose setup comes from another carrier call than the one placed', async () => {
    const opened = await connect(sign(wsUrl));
    assert.ok('ws' in opened);
    const { closed } = collect(opened.ws);
    opened.ws.send(setup(CALL_ID, `CA${'cd'.repeat(16)}`));
    assert.equal(await closed, 1008);
  });

  it('closes a socket whose first frame is not setup', async () => {
    const opened = await connect(sign(wsUrl));
    assert.ok('ws' in opened);
    const { closed } = collect(opened.ws);
    opened.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Hi', last: true }));
    assert.equal(await closed, 1008);
  });
});

describe('voice URL TwiML', () => {
  it('connects the call to the relay with its voice, language, greeting (escaped) and call id', async () => {
    const xml = await voiceTwiml(
      { store, catalog: loadCatalog(), urls, transcriptionProvider: 'Deepgram', log: silentLog },
      CALL_ID,
      { CallSid: CALL_SID },
    );
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Connect><ConversationRelay /);
    for (const attribute of [
      `url="${wsUrl}"`,
      'welcomeGreeting="Hello, this is an AI assistant calling for a callgate user &amp; friends."',
      'language="en-US"',
      'ttsProvider="Google"',
      'voice="en-US-Journey-O"',
      'transcriptionProvider="Deepgram"',
      'interruptible="any"',
      'dtmfDetection="true"',
    ]) {
      assert.ok(xml.includes(attribute), `${attribute} in ${xml}`);
    }
    assert.match(
      xml,
      /<Parameter name="callId" value="11111111-2222-4333-8444-555555555555"\/><\/ConversationRelay><\/Connect><\/Response>$/,
    );
  });

  it('hangs up a call it does not know, or one answered by another carrier call', async () => {
    const options = { store, catalog: loadCatalog(), urls, transcriptionProvider: 'Deepgram', log: silentLog };
    const hangUp = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
    assert.equal(await voiceTwiml(options, 'not-a-call', {}), hangUp);
    assert.equal(await voiceTwiml(options, CALL_ID, { CallSid: `CA${'cd'.repeat(16)}` }), hangUp);
  });
});
