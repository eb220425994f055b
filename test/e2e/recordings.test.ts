/**
 * Recordings end to end through MCP (the official SDK client over Streamable HTTP) against the local
 * system: the sandbox carrier records an answered call (a real WAV), the call service fetches it into
 * S3 (the fauxqs emulator) and deletes the carrier's copy; getCallDetails gives a pre-signed URL, the
 * resource gives the same bytes, deleteCallData removes the object. Hostile: another user's call id,
 * a call without a recording, a forged recording callback, a RecordingUrl pointing elsewhere (never
 * fetched), a carrier whose audio fails twice before it serves it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN } from '@callgate/sandbox';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import twilio from 'twilio';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { NUMBERS } from '../support/calls.js';
import { eventually } from '../support/eventually.js';
import { httpClient, tokenFor } from '../support/system.js';

interface Recording {
  status: string;
  durationSeconds: number;
  url: string;
  urlExpiresAt: string;
  contentType: string;
  channels: number;
  fetchAttempts: number;
  lastError: string;
}
interface CallView {
  callId: string;
  status: string;
  record: boolean;
  recording: Recording | null;
}

const BUCKET = 'callgate-recordings';
let system: LocalSystem;
let s3: S3Client;
let sandboxUrl: string;
let webhooks: string;

before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      SANDBOX_CALL_STEP_MS: '100',
      SANDBOX_TALK_MS: '200',
      // Retries come quickly here; the test waits on the outcome, never on a time.
      RECORDING_FETCH_BACKOFF_MS: '50',
      RECORDING_SWEEP_INTERVAL_MS: '100',
      RECORDING_URL_TTL_SECONDS: '120',
    },
  });
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: system.s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const sandbox = system.services.find((s) => s.name === 'sandbox');
  const call = system.services.find((s) => s.name === 'call');
  sandboxUrl = sandbox?.endpoints.twilio as string;
  webhooks = call?.endpoints.webhooks as string;
});
after(async () => {
  s3?.destroy();
  await system?.stop();
});

const newCaller = () => httpClient(system, tokenFor(system, `rec-${randomUUID()}`));

async function tool<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, undefined, `${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

async function toolError(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await client.callTool({ name, arguments: args });
  assert.equal(result.isError, true, `${name} should fail: ${JSON.stringify(result.structuredContent)}`);
  return (result.content as { text: string }[])[0]?.text ?? '';
}

async function place(client: Client, record: boolean, to: string = NUMBERS.answers): Promise<string> {
  const { call } = await tool<{ call: CallView }>(client, 'makePhoneCall', {
    to,
    task: 'Ask for the opening hours',
    record,
    idempotencyKey: randomUUID(),
  });
  assert.equal(call.record, record);
  return call.callId;
}

/** getCallDetails until the recording is ready (spaced: the gateway limits each user's request rate). */
function readyRecording(client: Client, callId: string): Promise<CallView> {
  return eventually(
    `recording of ${callId} ready`,
    async () => {
      const { call } = await tool<{ call: CallView }>(client, 'getCallDetails', { callId });
      return call.recording?.status === 'ready' ? call : undefined;
    },
    5000,
    { intervalMs: 150 },
  );
}

const isWav = (bytes: Uint8Array) =>
  Buffer.from(bytes.subarray(0, 4)).toString('latin1') === 'RIFF' &&
  Buffer.from(bytes.subarray(8, 12)).toString('latin1') === 'WAVE';

async function objectsOf(callId: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'recordings/' }));
  return (listed.Contents ?? []).map((o) => o.Key as string).filter((key) => key.endsWith(`/${callId}.wav`));
}

async function postRecordingCallback(callId: string, params: Record<string, string>, signWith = SANDBOX_AUTH_TOKEN) {
  const url = `${webhooks}/twilio/recording?callId=${callId}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(signWith, url, params),
    },
    body: new URLSearchParams(params),
  });
  return { status: response.status, text: await response.text() };
}

describe('the recordingEnabled preference', () => {
  it('records a call placed without record; record: false still wins', async () => {
    const client = await newCaller();
    try {
      await tool(client, 'updateCallPreferences', { recordingEnabled: true });
      const byDefault = await tool<{ call: CallView }>(client, 'makePhoneCall', {
        to: NUMBERS.answers,
        task: 'Ask for the opening hours',
        idempotencyKey: randomUUID(),
      });
      assert.equal(byDefault.call.record, true, 'the preference records it');
      await readyRecording(client, byDefault.call.callId);
      const optedOut = await tool<{ call: CallView }>(client, 'makePhoneCall', {
        to: NUMBERS.answers,
        task: 'Ask for the opening hours',
        record: false,
        idempotencyKey: randomUUID(),
      });
      assert.equal(optedOut.call.record, false, 'the call’s own argument overrides the preference');
    } finally {
      await client.close();
    }
  });
});

describe('a recorded call, end to end', () => {
  it('is stored in S3, played from a pre-signed URL and the resource, and deleted on request', async () => {
    const owner = await newCaller();
    const callId = await place(owner, true);
    const { recording } = await readyRecording(owner, callId);
    assert.ok(recording);
    assert.equal(recording.contentType, 'audio/wav');
    assert.equal(recording.channels, 2);
    assert.ok(recording.durationSeconds >= 1);
    assert.equal(recording.fetchAttempts, 1);
    assert.ok(Date.parse(recording.urlExpiresAt) > Date.now());

    const response = await fetch(recording.url);
    assert.equal(response.status, 200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.ok(isWav(bytes), 'the URL serves a RIFF/WAVE file');
    assert.ok(bytes.byteLength > 44, 'with audio after its header');

    const { contents } = await owner.readResource({ uri: `callgate://calls/${callId}/recording` });
    const content = contents[0] as { mimeType: string; blob: string };
    assert.equal(content.mimeType, 'audio/wav');
    assert.deepEqual(new Uint8Array(Buffer.from(content.blob, 'base64')), bytes, 'the resource returns the same bytes');

    const [key] = await objectsOf(callId);
    assert.ok(key, 'one object for the call');
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));

    // Another user: the call does not exist for them, exactly as an unknown id does not.
    const stranger = await newCaller();
    const unknownId = randomUUID();
    const strangerRead = await stranger.readResource({ uri: `callgate://calls/${callId}/recording` }).then(
      () => 'read',
      (error: Error) => error.message.replace(callId, '<id>'),
    );
    const unknownRead = await stranger.readResource({ uri: `callgate://calls/${unknownId}/recording` }).then(
      () => 'read',
      (error: Error) => error.message.replace(unknownId, '<id>'),
    );
    assert.match(strangerRead, /not found/);
    assert.equal(strangerRead, unknownRead);
    const strangerDelete = await toolError(stranger, 'deleteCallData', { callId, what: ['recording'] });
    assert.equal(
      strangerDelete.replace(callId, '<id>'),
      (await toolError(stranger, 'deleteCallData', { callId: unknownId, what: ['recording'] })).replace(
        unknownId,
        '<id>',
      ),
    );
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));

    const deleted = await tool<{ call: CallView; recordingDeleted: boolean }>(owner, 'deleteCallData', {
      callId,
      what: ['recording'],
    });
    assert.equal(deleted.recordingDeleted, true);
    assert.equal(deleted.call.recording?.status, 'deleted');
    assert.equal(deleted.call.recording?.url, '');
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })), { name: 'NotFound' });
    assert.equal((await fetch(recording.url)).status, 404, 'the old URL serves nothing');
    await assert.rejects(owner.readResource({ uri: `callgate://calls/${callId}/recording` }), /no stored recording/);
    const again = await tool<{ recordingDeleted: boolean }>(owner, 'deleteCallData', { callId, what: ['recording'] });
    assert.equal(again.recordingDeleted, false, 'deleting it again is no error, and says nothing was there');
  });

  it('a call without recording has none to read, and deleteCallData refuses bad arguments', async () => {
    const client = await newCaller();
    const callId = await place(client, false);
    const { call } = await tool<{ call: CallView }>(client, 'getCallDetails', { callId });
    assert.equal(call.recording, null);
    await assert.rejects(client.readResource({ uri: `callgate://calls/${callId}/recording` }), /has no recording/);
    for (const what of [[], ['recording', 'recording'], ['audio'], 'recording', ['recording\u0000']]) {
      await toolError(client, 'deleteCallData', { callId, what });
    }
    await toolError(client, 'deleteCallData', { callId: 'x'.repeat(100_000), what: ['recording'] });
  });
});

describe("deleting a call's transcript", () => {
  it('empties it once the call has ended, and is refused while the call is live', async () => {
    const client = await newCaller();
    const live = await place(client, false, NUMBERS.held);
    const refused = await toolError(client, 'deleteCallData', { callId: live, what: ['transcript'] });
    assert.match(refused, /once it has ended/);
    await tool(client, 'cancelCall', { callId: live });

    const callId = await place(client, true);
    await readyRecording(client, callId);
    const both = await tool<{
      call: CallView & { transcript: unknown[]; transcriptDeletedAt: string };
      recordingDeleted: boolean;
      transcriptDeleted: boolean;
    }>(client, 'deleteCallData', { callId, what: ['transcript', 'recording'] });
    assert.equal(both.transcriptDeleted, true);
    assert.equal(both.recordingDeleted, true);
    assert.deepEqual(both.call.transcript, []);
    assert.ok(Date.parse(both.call.transcriptDeletedAt) > 0);
    assert.equal(both.call.recording?.status, 'deleted');
    assert.deepEqual(await objectsOf(callId), []);
    const again = await tool<{ transcriptDeleted: boolean }>(client, 'deleteCallData', {
      callId,
      what: ['transcript'],
    });
    assert.equal(again.transcriptDeleted, false);
  });
});

describe('recording callbacks that must not be trusted', () => {
  it('a forged signature is refused 403', async () => {
    const client = await newCaller();
    const callId = await place(client, true, NUMBERS.held);
    const sid = `RE${'a'.repeat(32)}`;
    const reply = await postRecordingCallback(
      callId,
      {
        AccountSid: SANDBOX_ACCOUNT_SID,
        RecordingSid: sid,
        RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${SANDBOX_ACCOUNT_SID}/Recordings/${sid}`,
        RecordingStatus: 'completed',
        RecordingDuration: '3',
        RecordingChannels: '2',
      },
      'not-the-auth-token',
    );
    assert.equal(reply.status, 403);
    const { call } = await tool<{ call: CallView }>(client, 'getCallDetails', { callId });
    assert.equal(call.recording, null);
  });

  it('a RecordingUrl anywhere but the carrier is refused and never fetched (SSRF)', async () => {
    let hits = 0;
    const lure = createServer((_req, res) => {
      hits++;
      res.end('secret');
    });
    await new Promise<void>((resolve) => lure.listen(0, '127.0.0.1', resolve));
    const lureUrl = `http://127.0.0.1:${(lure.address() as AddressInfo).port}`;
    try {
      const client = await newCaller();
      const callId = await place(client, true, NUMBERS.held);
      const sid = `RE${'b'.repeat(32)}`;
      for (const url of [
        `${lureUrl}/2010-04-01/Accounts/${SANDBOX_ACCOUNT_SID}/Recordings/${sid}`,
        'http://169.254.169.254/latest/meta-data/',
        `https://api.twilio.com.evil.example/2010-04-01/Accounts/${SANDBOX_ACCOUNT_SID}/Recordings/${sid}`,
        `https://api.twilio.com/2010-04-01/Accounts/AC${'0'.repeat(32)}/Recordings/${sid}`,
        `https://user:pw@api.twilio.com/2010-04-01/Accounts/${SANDBOX_ACCOUNT_SID}/Recordings/${sid}`,
      ]) {
        const reply = await postRecordingCallback(callId, {
          AccountSid: SANDBOX_ACCOUNT_SID,
          RecordingSid: sid,
          RecordingUrl: url,
          RecordingStatus: 'completed',
          RecordingDuration: '3',
          RecordingChannels: '2',
        });
        assert.equal(reply.status, 400, url);
      }
      for (const bad of [
        { RecordingDuration: '-1' },
        { RecordingDuration: '99999999999' },
        { RecordingSid: 'RE\u0000' },
        { AccountSid: `AC${'1'.repeat(32)}` },
        { RecordingChannels: '7' },
      ]) {
        const reply = await postRecordingCallback(callId, {
          AccountSid: SANDBOX_ACCOUNT_SID,
          RecordingSid: sid,
          RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${SANDBOX_ACCOUNT_SID}/Recordings/${sid}`,
          RecordingStatus: 'completed',
          RecordingDuration: '3',
          RecordingChannels: '2',
          ...bad,
        });
        assert.equal(reply.status, 400, JSON.stringify(bad));
      }
      const { call } = await tool<{ call: CallView }>(client, 'getCallDetails', { callId });
      assert.equal(call.recording, null, 'nothing was recorded against the call');
      assert.equal(hits, 0, 'the lure was never fetched');
    } finally {
      lure.close();
    }
  });
});

describe('a carrier that fails to serve the audio', () => {
  it('is retried with backoff, reported on the call, and stored once', async () => {
    const faults = await fetch(`${sandboxUrl}/sandbox/recordings/media-faults`, {
      method: 'POST',
      body: JSON.stringify({ count: 2 }),
    });
    assert.equal(faults.status, 200);
    const client = await newCaller();
    const callId = await place(client, true);
    const { recording } = await readyRecording(client, callId);
    assert.equal(recording?.fetchAttempts, 3, 'two failures then a success');
    assert.equal(recording?.lastError, '');
    assert.equal((await objectsOf(callId)).length, 1, 'stored once');
    const bytes = new Uint8Array(await (await fetch(recording?.url as string)).arrayBuffer());
    assert.ok(isWav(bytes));
  });
});
