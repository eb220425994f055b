/**
 * The relay WebSocket on a real HTTP server (127.0.0.1, ephemeral port) with a real `ws` client:
 * the handshake's X-Twilio-Signature is checked for the public wss:// URL (missing, forged, or for
 * another URL: 403 before any upgrade), that URL must bind a call and an expiry (unbound: 403, expired:
 * 401, on a clock the test moves), the first frame must be a setup for the call the URL was signed for,
 * bad frames are ignored without ending the call, and the voice URL answers the ConversationRelay TwiML.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type Clock, loadCatalog, ManualClock, systemClock } from '@callgate/common';
import twilio from 'twilio';
import WebSocket from 'ws';
import { MemorySink, silentLog, testMetrics } from '../../../../test/support/relay-fakes.js';
import { within } from '../../../../test/support/within.js';
import { builtinAgent } from '../agent/builtin-agent.js';
import type { CallRow, CallStore } from '../call-store.js';
import { ActiveConversations } from './active-conversations.js';
import { RELAY_URL_LIFETIME_SECONDS } from './handshake.js';
import { attachRelay } from './relay-server.js';
import { TwilioUrls } from './signature.js';
import { voiceTwiml } from './voice-webhook.js';

const TOKEN = 'relay-test-auth-token';
const CALL_ID = '11111111-2222-4333-8444-555555555555';
const CALL_SID = `CA${'ab'.repeat(16)}`;
/** Another call in progress: a handshake signed for CALL_ID must not open it. */
const OTHER_CALL_ID = '66666666-2222-4333-8444-555555555555';
const OTHER_CALL_SID = `CA${'ef'.repeat(16)}`;
/** When the voice webhook hands out the relay URLs of these tests. */
const ISSUED_AT = new Date('2026-12-07T15:00:00.000Z');
const ISSUED_S = ISSUED_AT.getTime() / 1000;

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

const otherCall = { ...call, call_id: OTHER_CALL_ID, carrier_call_id: OTHER_CALL_SID } as CallRow;

/** Only what the relay reads: a call by id. */
const store = {
  byId: async (id: string) => (id === CALL_ID ? call : id === OTHER_CALL_ID ? otherCall : undefined),
} as unknown as CallStore;

/** The relay server's clock: real timers, and a "now" each test sets (the handshake expiry reads it). */
let now = ISSUED_AT;
const clock: Clock = { ...systemClock, now: () => now.getTime(), date: () => now };
beforeEach(() => {
  now = ISSUED_AT;
});

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
  wsUrl = urls.relayUrl({ callId: CALL_ID, callSid: CALL_SID }, ISSUED_AT);
  sink = new MemorySink();
  relay = attachRelay(server, {
    reportAnswered: async () => undefined,
    store,
    sink,
    agentFor: () => builtinAgent,
    urls,
    active: new ActiveConversations(),
    clock,
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
    assert.deepEqual(await connect(sign(wsUrl), `${wsUrl}&callId=${CALL_ID}`), { status: 403 });
  });

  it("refuses call A's signature on a URL rewritten to name call B", async () => {
    const forCallB = wsUrl.replace(CALL_ID, OTHER_CALL_ID).replace(CALL_SID, OTHER_CALL_SID);
    assert.notEqual(forCallB, wsUrl);
    assert.deepEqual(await connect(sign(wsUrl), forCallB), { status: 403 });
  });

  it('refuses a correctly signed URL that binds no call and no expiry (the same for every call)', async () => {
    const unbound = wsUrl.replace(/\?.*$/, '');
    assert.deepEqual(await connect(sign(unbound), unbound), { status: 403 });
  });

  it('refuses a correctly signed URL once it has expired, with 401', async () => {
    now = new Date((ISSUED_S + RELAY_URL_LIFETIME_SECONDS + 1) * 1000);
    assert.deepEqual(await connect(sign(wsUrl)), { status: 401 });
  });

  it('accepts a correctly signed URL up to its last second', async () => {
    now = new Date((ISSUED_S + RELAY_URL_LIFETIME_SECONDS) * 1000 + 999);
    const opened = await connect(sign(wsUrl));
    assert.ok('ws' in opened, JSON.stringify(opened));
    opened.ws.close();
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

/**
 * The first thing the server does after setup: close the socket (with its code) or answer a prompt.
 * A prompt follows setup at once, so a conversation that wrongly started shows up as a frame.
 */
function afterSetup(ws: WebSocket): Promise<{ closed: number; reason: string } | { frame: string }> {
  return within(
    new Promise((resolve) => {
      ws.once('close', (code, reason) => resolve({ closed: code, reason: reason.toString() }));
      ws.once('message', (data) => resolve({ frame: data.toString() }));
    }),
    'the relay to answer or close after setup',
  );
}

describe('relay setup', () => {
  it("closes a socket signed for call A whose setup is call B's (a replayed handshake)", async () => {
    const opened = await connect(sign(wsUrl));
    assert.ok('ws' in opened);
    const answer = afterSetup(opened.ws);
    opened.ws.send(setup(OTHER_CALL_ID, OTHER_CALL_SID));
    opened.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Hello?', lang: 'en-US', last: true }));
    assert.deepEqual(await answer, { closed: 1008, reason: 'setup does not match the signed relay URL' });
  });

  it('closes a second socket for a call already connected (a handshake replayed within its lifetime)', async () => {
    const first = await connect(sign(wsUrl));
    assert.ok('ws' in first);
    const firstClosed = collect(first.ws).closed;
    first.ws.send(setup());
    // The first conversation is running once it answers a prompt.
    const answered = new Promise((resolve) => first.ws.once('message', resolve));
    first.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Hello?', lang: 'en-US', last: true }));
    await within(answered, 'the first socket to be answered');

    const replay = await connect(sign(wsUrl));
    assert.ok('ws' in replay);
    const answer = afterSetup(replay.ws);
    replay.ws.send(setup());
    replay.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Hello?', lang: 'en-US', last: true }));
    assert.deepEqual(await answer, { closed: 1008, reason: 'call already connected' });
    first.ws.close();
    await firstClosed;
  });

  it('closes a socket whose setup has the signed call id but another CallSid than the signed one', async () => {
    const opened = await connect(sign(wsUrl));
    assert.ok('ws' in opened);
    const answer = afterSetup(opened.ws);
    opened.ws.send(setup(CALL_ID, OTHER_CALL_SID));
    opened.ws.send(JSON.stringify({ type: 'prompt', voicePrompt: 'Hello?', lang: 'en-US', last: true }));
    assert.deepEqual(await answer, { closed: 1008, reason: 'setup does not match the signed relay URL' });
  });

  it('closes a socket whose setup names no known call (even with a URL signed for it)', async () => {
    const unknown = '99999999-2222-4333-8444-555555555555';
    const url = urls.relayUrl({ callId: unknown, callSid: CALL_SID }, ISSUED_AT);
    const opened = await connect(sign(url), url);
    assert.ok('ws' in opened);
    const { closed } = collect(opened.ws);
    opened.ws.send(setup(unknown));
    assert.equal(await closed, 1008);
  });

  it('closes a socket whose setup comes from another carrier call than the one placed', async () => {
    // Signed for that carrier call too, so it is the stored call's carrier sid that refuses it.
    const url = urls.relayUrl({ callId: CALL_ID, callSid: `CA${'cd'.repeat(16)}` }, ISSUED_AT);
    const opened = await connect(sign(url), url);
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
  const voiceOptions = () => ({
    store,
    catalog: loadCatalog(),
    urls,
    transcriptionProvider: 'Deepgram',
    log: silentLog,
    clock: new ManualClock(ISSUED_AT),
  });

  it('connects the call to the relay with its voice, language, greeting (escaped) and call id', async () => {
    const xml = await voiceTwiml(voiceOptions(), CALL_ID, { CallSid: CALL_SID });
    assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?><Response><Connect><ConversationRelay /);
    for (const attribute of [
      // The call, its CallSid and an expiry five minutes on, signed by Twilio along with the URL.
      `url="${wsUrl.replace(/\?.*$/, '')}?call=${CALL_ID}&amp;sid=${CALL_SID}&amp;exp=${ISSUED_S + 300}"`,
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
    const options = voiceOptions();
    const hangUp = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
    assert.equal(await voiceTwiml(options, 'not-a-call', {}), hangUp);
    assert.equal(await voiceTwiml(options, CALL_ID, { CallSid: `CA${'cd'.repeat(16)}` }), hangUp);
  });
});
