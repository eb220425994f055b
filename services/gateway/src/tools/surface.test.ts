/**
 * The tools as an MCP client meets them, in process: every tool's structuredContent holds to the
 * outputSchema it lists (checked with Ajv in strict mode, as validating clients do, not with the zod
 * schema the SDK checks, which strips what the JSON Schema forbids), and the surface speaks one
 * vocabulary (call-status.ts). The backends are fakes that answer as @grpc/proto-loader renders the
 * call and user-credit messages: every field present, enums by name, the user id included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError, toGrpcStatus } from '@callgate/common';
import type { authV1, callV1, creditV1 } from '@callgate/protos';
import { Metadata, status } from '@grpc/grpc-js';
import {
  type AuthInfo,
  InMemoryTransport,
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
} from '@modelcontextprotocol/server';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Backends } from '../backends.js';
import { createMcpServer } from '../mcp-server.js';
import { requestStateCodec } from '../request-state.js';
import { SCOPES, USER_SCOPES } from './scopes.js';

const USER = 'surface-user';
const CALL_ID = '3f2b8c1e-5a6d-4e7f-8a9b-0c1d2e3f4a5b';
const AUTH: AuthInfo = {
  token: 't',
  clientId: 'surface-test',
  scopes: [...USER_SCOPES.split(' '), SCOPES.appsManage],
  extra: { userId: USER },
};

const PERSONAL_TOKEN: authV1.PersonalToken__Output = {
  tokenId: 'AbCdEfGhIjKlMnOp',
  name: 'my agent',
  scopes: ['calls:read'],
  createdAt: '2026-01-01T09:00:00.000Z',
  expiresAt: '2026-01-08T09:00:00.000Z',
  lastUsedAt: '',
};

const WEBHOOK: callV1.Webhook__Output = {
  webhookId: '5d41402a-bc4b-4a76-b971-9d911017c592',
  url: 'https://hooks.example.com/callgate',
  events: ['call.completed'],
  description: '',
  createdAt: '2026-01-01T09:00:00.000Z',
};

const event = (sequence: number, s: callV1.CallStatus__Output): callV1.CallEvent__Output => ({
  sequence,
  status: s,
  occurredAt: `2026-01-01T09:00:0${sequence}Z`,
  source: 'callback',
  detail: '',
  kind: 'CALL_EVENT_KIND_STATUS',
  costCredits: 0,
});

const CALL: callV1.Call__Output = {
  callId: CALL_ID,
  userId: USER,
  to: '+14155550001',
  from: '+15005550006',
  status: 'CALL_STATUS_COMPLETED',
  task: 'Ask for the opening hours',
  firstMessage: 'Hello',
  voice: 'google-en-US-Neural2-F',
  model: 'standard',
  language: 'en-US',
  maxDurationSeconds: 300,
  createdAt: '2026-01-01T09:00:00Z',
  updatedAt: '2026-01-01T09:01:00Z',
  answeredAt: '2026-01-01T09:00:10Z',
  endedAt: '2026-01-01T09:01:00Z',
  durationSeconds: 50,
  costCredits: 10,
  answeredBy: 'human',
  errorCode: '',
  errorMessage: '',
  carrierCallId: 'CA0123',
  metadata: { ticket: '42' },
  timeline: [event(1, 'CALL_STATUS_QUEUED'), event(2, 'CALL_STATUS_IN_PROGRESS'), event(3, 'CALL_STATUS_COMPLETED')],
  transcript: [{ speaker: 'agent', text: 'Hello', startedAt: '2026-01-01T09:00:11Z', interrupted: false }],
  outcome: {
    fieldsJson: JSON.stringify({ opensAt: '09:00', days: ['mon', 'tue'] }),
    missingFields: ['closesAt'],
    summary: 'Opens at nine.',
    objectiveReached: true,
    endReason: 'objective',
  },
  reservedCredits: 0,
  cancelRequestedAt: '',
  record: true,
  recording: {
    status: 'ready',
    durationSeconds: 3,
    url: 'https://callgate-recordings.s3.amazonaws.com/recordings/u/c.wav?X-Amz-Signature=abc',
    urlExpiresAt: '2026-01-01T09:06:00Z',
    contentType: 'audio/wav',
    channels: 2,
    fetchAttempts: 1,
    lastError: '',
    storedAt: '2026-01-01T09:01:05Z',
    deletedAt: '',
  },
  transcriptDeletedAt: '',
};

const PREFERENCES: creditV1.Preferences__Output = {
  defaultVoice: 'google-en-US-Neural2-F',
  defaultModel: 'standard',
  language: 'en-US',
  callerId: '+15005550006',
  maxCallDurationSeconds: 300,
  recordingEnabled: false,
  timezone: 'Europe/Berlin',
  quietHours: { start: '', end: '' },
  maxConcurrentCalls: 3,
};

const grpcError = (code: status, details: string, field?: string) => {
  // As our services send it: a field travels in the typed ErrorDetail.
  const metadata = field
    ? toGrpcStatus(new DomainError('invalid_argument', details, { field })).metadata
    : new Metadata();
  return Object.assign(new Error(details), { code, details, metadata });
};

/** Fake backends answering as proto-loader does, recording each request by method name. */
function fakeBackends(overrides: Record<string, (request: never) => unknown> = {}) {
  const requests: Record<string, unknown[]> = {};
  const answer = (name: string, value: (request: never) => unknown) => async (request: never) => {
    requests[name] = [...(requests[name] ?? []), request];
    return (overrides[name] ?? value)(request);
  };
  const call = {
    placeCall: answer('placeCall', () => ({ call: { ...CALL, status: 'CALL_STATUS_QUEUED' }, deduplicated: false })),
    getCall: answer('getCall', () => ({ call: CALL })),
    listCalls: answer('listCalls', () => ({
      calls: [{ ...CALL, timeline: [], transcript: [] }],
      nextPageToken: 'abc',
    })),
    cancelCall: answer('cancelCall', () => ({
      call: { ...CALL, status: 'CALL_STATUS_CANCELED', outcome: null },
      outcome: 'CANCEL_OUTCOME_CANCELED_BEFORE_ANSWER',
    })),
    deleteCallData: answer('deleteCallData', () => ({
      call: { ...CALL, recording: { ...CALL.recording, status: 'deleted', url: '', urlExpiresAt: '' } },
      recordingDeleted: true,
      transcriptDeleted: false,
    })),
    getCallProgress: answer('getCallProgress', () => ({
      progress: {
        callId: CALL_ID,
        status: 'CALL_STATUS_IN_PROGRESS',
        stage: 'in progress 0:42',
        percent: 60,
        elapsedSeconds: 42,
        lastEvent: event(2, 'CALL_STATUS_IN_PROGRESS'),
        terminal: false,
      },
    })),
    getVoiceOptions: answer('getVoiceOptions', () => ({
      voices: [
        {
          id: 'google-en-US-Neural2-F',
          provider: 'google',
          name: 'F',
          languages: ['en-US'],
          gender: 'female',
          description: 'Warm',
        },
      ],
      defaultVoice: 'google-en-US-Neural2-F',
    })),
    getModelOptions: answer('getModelOptions', () => ({
      models: [
        { id: 'standard', name: 'Standard', provider: 'x', tier: 'standard', creditsPerMinute: 12, description: '' },
      ],
      defaultModel: 'standard',
    })),
    createWebhook: answer('createWebhook', () => ({ webhook: WEBHOOK, secret: 'whsec_secret' })),
    listWebhooks: answer('listWebhooks', () => ({ webhooks: [WEBHOOK], maxWebhooks: 10 })),
    deleteWebhook: answer('deleteWebhook', () => ({})),
    listWebhookDeliveries: answer('listWebhookDeliveries', () => ({
      deliveries: [
        {
          eventId: '9e107d9d-372b-b682-6bd8-1e9f0cd2e1a1',
          eventType: 'call.completed',
          callId: CALL_ID,
          state: 'retrying',
          attempts: 2,
          lastError: 'HTTP 503',
          lastStatusCode: 503,
          nextAttemptAt: '2026-01-01T09:01:00.000Z',
          createdAt: '2026-01-01T09:00:00.000Z',
          deliveredAt: '',
        },
      ],
      nextPageToken: '',
    })),
    estimateCall: answer('estimateCall', () => ({
      model: 'standard',
      maxDurationSeconds: 300,
      creditsPerMinute: 12,
      holdCredits: 60,
      availableCredits: 900,
      enough: true,
    })),
  };
  const auth = {
    listGrants: answer('listGrants', () => ({
      grants: [
        {
          grantId: 'grant-1',
          clientId: 'callgate-console',
          clientName: 'callgate console',
          scopes: ['apps:manage', 'calls:read', 'openid'],
          grantedAt: '2026-01-01T09:00:00.000Z',
          lastUsedAt: '',
        },
      ],
    })),
    revokeGrant: answer('revokeGrant', () => ({})),
    listPersonalTokens: answer('listPersonalTokens', () => ({ tokens: [PERSONAL_TOKEN] })),
    createPersonalToken: answer('createPersonalToken', () => ({ info: PERSONAL_TOKEN, token: 'cgp_secret' })),
    revokePersonalToken: answer('revokePersonalToken', () => ({})),
  };
  const credit = {
    ensureUser: answer('ensureUser', () => ({})),
    getBalance: answer('getBalance', () => ({
      balance: { userId: USER, available: 900, held: 100, debt: 0, unit: 'credits', lowBalance: false },
    })),
    getProfile: answer('getProfile', () => ({
      profile: {
        userId: USER,
        displayName: 'Ada',
        email: 'ada@example.com',
        organization: '',
        plan: 'free',
        createdAt: '2026-01-01T00:00:00Z',
        callerIds: [],
        dailyCallMinutes: 0,
      },
    })),
    getPreferences: answer('getPreferences', () => ({ preferences: PREFERENCES })),
    updatePreferences: answer('updatePreferences', () => ({ preferences: PREFERENCES })),
  };
  const backends = {
    call,
    credit,
    auth,
    // Users exist already: the directory's own creation is not what these tests are about.
    users: { ensure: async () => USER },
  } as unknown as Backends;
  return { backends, requests };
}

/**
 * The text of a refused tools/call. The SDK answers a tool's -32602 (its input schema, or invalid
 * params from the handler) as a tool result with isError, as the 2025-11-25 specification asks, so the
 * model reads what to correct; the protocol-level error is for unknown tools only.
 */
function refusal(reply: Reply): string {
  assert.equal(reply.error, undefined, JSON.stringify(reply.error));
  assert.equal(reply.result?.isError, true, `refused: ${JSON.stringify(reply.result)}`);
  return ((reply.result?.content ?? []) as { text: string }[]).map((c) => c.text).join('\n');
}

/** The structuredContent of a tools/call that succeeded. */
function structured<T>(reply: Reply): T {
  assert.equal(reply.error, undefined, JSON.stringify(reply.error));
  assert.notEqual(reply.result?.isError, true, JSON.stringify(reply.result));
  return reply.result?.structuredContent as T;
}

/** The n-th request a fake backend method received. */
function sent<T>(requests: Record<string, unknown[]>, method: string, n = 0): T {
  const request = requests[method]?.[n];
  assert.ok(request, `${method} was asked (${n})`);
  return request as T;
}

type Reply = {
  id: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
};

/** A server of every gateway tool on an in-memory connection, and a way to send it requests as USER. */
async function connect(backends: Backends) {
  const server = createMcpServer({ backends, requestState: requestStateCodec(undefined) });
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  const replies = new Map<number, (reply: Reply) => void>();
  client.onmessage = (message: JSONRPCMessage) => {
    const m = message as unknown as Reply;
    if (typeof m.id === 'number') replies.get(m.id)?.(m);
  };
  await server.connect(serverSide);
  await client.start();
  let id = 0;
  const request = (method: string, params: Record<string, unknown>) =>
    new Promise<Reply>((resolve, reject) => {
      const n = ++id;
      replies.set(n, resolve);
      client.send({ jsonrpc: '2.0', id: n, method, params }, { authInfo: AUTH }).catch(reject);
    });
  await request('initialize', {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'surface-test', version: '1' },
  });
  await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  const callTool = async (name: string, args: Record<string, unknown>) =>
    request('tools/call', { name, arguments: args });
  return { request, callTool, close: () => server.close() };
}

/** Arguments a client would send to each tool. A tool missing here fails the test: none may go unchecked. */
const REPRESENTATIVE_ARGUMENTS: Record<string, Record<string, unknown>> = {
  makePhoneCall: { to: '+14155550001', task: 'Ask for the opening hours', idempotencyKey: 'surface-key-1' },
  getCallDetails: { callId: CALL_ID },
  getCallHistory: { status: ['completed', 'busy'], since: '2026-01-01T00:00:00Z' },
  cancelCall: { callId: CALL_ID },
  deleteCallData: { callId: CALL_ID, what: ['recording'] },
  getCallProgress: { callId: CALL_ID },
  updateCallPreferences: { timezone: 'Europe/Berlin' },
  getVoiceOptions: {},
  getModelOptions: {},
  getCreditBalance: {},
  getProfile: {},
  estimateCallCost: { maxDurationSeconds: 300 },
  listConnectedApps: {},
  revokeConnectedApp: { grantId: 'grant-1' },
  listPersonalTokens: {},
  createPersonalToken: { name: 'my agent', scopes: ['calls:read'], expiresInDays: 7 },
  revokePersonalToken: { tokenId: 'AbCdEfGhIjKlMnOp' },
  createWebhook: { url: 'https://hooks.example.com/callgate', events: ['call.completed', 'call.failed'] },
  listWebhooks: {},
  deleteWebhook: { webhookId: '5d41402a-bc4b-4a76-b971-9d911017c592' },
  getWebhookDeliveries: { webhookId: '5d41402a-bc4b-4a76-b971-9d911017c592' },
};

describe('every tool: structuredContent holds to its outputSchema (Ajv, strict)', () => {
  it('validates the result of each listed tool, and every listed tool is exercised', async () => {
    const { backends } = fakeBackends();
    const mcp = await connect(backends);
    try {
      const list = await mcp.request('tools/list', {});
      const tools = (list.result?.tools ?? []) as { name: string; outputSchema?: Record<string, unknown> }[];
      assert.ok(tools.length >= 10, `the gateway lists its tools (${tools.length})`);
      assert.deepEqual(
        tools.map((t) => t.name).sort(),
        Object.keys(REPRESENTATIVE_ARGUMENTS).sort(),
        'a representative call for every listed tool',
      );
      for (const tool of tools) {
        assert.ok(tool.outputSchema, `${tool.name} declares an outputSchema`);
        // A fresh Ajv per schema: strict mode refuses unknown keywords and formats in the schema itself.
        const ajv = new Ajv2020({ strict: true, allErrors: true });
        const validate = ajv.compile(tool.outputSchema);
        const reply = await mcp.callTool(tool.name, REPRESENTATIVE_ARGUMENTS[tool.name] ?? {});
        assert.equal(reply.error, undefined, `${tool.name}: ${JSON.stringify(reply.error)}`);
        assert.notEqual(reply.result?.isError, true, `${tool.name}: ${JSON.stringify(reply.result?.content)}`);
        const structured = reply.result?.structuredContent;
        assert.ok(
          validate(structured),
          `${tool.name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(structured)}`,
        );
      }
    } finally {
      await mcp.close();
    }
  });
});

describe('one vocabulary on the MCP surface', () => {
  it('outputs lowercase statuses and cancel outcomes, and the outcome fields as an object', async () => {
    const { backends } = fakeBackends();
    const mcp = await connect(backends);
    try {
      const details = structured<{
        call: Record<string, unknown> & { timeline: { status: string }[]; outcome: Record<string, unknown> };
      }>(await mcp.callTool('getCallDetails', { callId: CALL_ID }));
      assert.equal(details.call.status, 'completed');
      assert.deepEqual(
        details.call.timeline.map((e) => e.status),
        ['queued', 'in-progress', 'completed'],
      );
      assert.deepEqual(details.call.outcome.fields, { opensAt: '09:00', days: ['mon', 'tue'] });
      assert.equal('fieldsJson' in details.call.outcome, false);
      assert.equal('userId' in details.call, false, 'the token says whose call it is');
      const canceled = structured<{
        call: { status: string };
        outcome: string;
      }>(await mcp.callTool('cancelCall', { callId: CALL_ID }));
      assert.deepEqual([canceled.call.status, canceled.outcome], ['canceled', 'canceled-before-answer']);
      const progress = structured<{
        progress: { status: string; lastEvent: { status: string } };
      }>(await mcp.callTool('getCallProgress', { callId: CALL_ID }));
      assert.deepEqual([progress.progress.status, progress.progress.lastEvent.status], ['in-progress', 'in-progress']);
      const resource = await mcp.request('resources/read', { uri: `callgate://calls/${CALL_ID}` });
      const read = JSON.parse(((resource.result?.contents ?? []) as { text: string }[])[0]?.text ?? '{}');
      assert.equal(read.status, 'completed', 'resources speak the same words as tools');
      assert.deepEqual(read.outcome.fields.days, ['mon', 'tue']);
    } finally {
      await mcp.close();
    }
  });

  it('getCallHistory filters by since/until and lowercase statuses, and refuses the old `from`/`to`', async () => {
    const { backends, requests } = fakeBackends();
    const mcp = await connect(backends);
    try {
      const page = await mcp.callTool('getCallHistory', {
        status: ['no-answer', 'in-progress'],
        since: '2026-01-01T00:00:00Z',
        until: '2026-01-31T00:00:00Z',
      });
      const { calls } = structured<{ calls: { status: string }[] }>(page);
      assert.equal(calls[0]?.status, 'completed');
      assert.deepEqual(requests.listCalls?.[0], {
        userId: USER,
        pageSize: 20,
        pageToken: '',
        statuses: ['CALL_STATUS_NO_ANSWER', 'CALL_STATUS_IN_PROGRESS'],
        createdAfter: '2026-01-01T00:00:00Z',
        createdBefore: '2026-01-31T00:00:00Z',
        number: '',
      });
      await mcp.callTool('getCallHistory', { number: '+1415' });
      assert.equal(sent<{ number: string }>(requests, 'listCalls', 1).number, '+1415', 'a search by number passes');
      for (const number of ['%', '1_5', '\\', '14%', 'abc', '+', '', '1'.repeat(21), '+1 415', '1\u0000']) {
        const text = refusal(await mcp.callTool('getCallHistory', { number }));
        assert.match(text, /Input validation error[\s\S]*number/, JSON.stringify(number));
      }
      assert.equal(requests.listCalls?.length, 2, 'no refused search reached the call service');
      // A client still sending the old names must hear so, not get an unfiltered list.
      const old = refusal(await mcp.callTool('getCallHistory', { to: '2026-01-31T00:00:00Z' }));
      assert.match(old, /Input validation error[\s\S]*"to"/);
      assert.equal(requests.listCalls?.length, 2, 'the refused call reached no backend');
    } finally {
      await mcp.close();
    }
  });

  it('a cursor the call service refuses is "invalid cursor", not pageToken or an internal error', async () => {
    const { backends } = fakeBackends({
      listCalls: () => {
        throw grpcError(status.INVALID_ARGUMENT, 'not a page token from a previous response', 'pageToken');
      },
    });
    const mcp = await connect(backends);
    try {
      const text = refusal(await mcp.callTool('getCallHistory', { cursor: 'eyJ0IjoieWVzdGVyZGF5In0' }));
      assert.match(text, /^invalid cursor/);
      assert.doesNotMatch(text, /pageToken|internal error/);
    } finally {
      await mcp.close();
    }
  });

  it('refuses a NUL byte in stored text as invalid input naming the field, before any backend is asked', async () => {
    const { backends, requests } = fakeBackends();
    const mcp = await connect(backends);
    try {
      const cases: [string, Record<string, unknown>][] = [
        ['task', { task: 'call\u0000me' }],
        ['firstMessage', { task: 'x', firstMessage: 'hi\u0000' }],
        ['metadata', { task: 'x', metadata: { ticket: 'a\u0000b' } }],
        ['metadata', { task: 'x', metadata: { 'ti\u0000cket': 'a' } }],
        // Stored too (the call's idempotency_key): it reached PostgreSQL as "internal error" before text() held it.
        ['idempotencyKey', { task: 'x', idempotencyKey: 'retry-key\u00001' }],
      ];
      for (const [field, args] of cases) {
        const text = refusal(await mcp.callTool('makePhoneCall', { to: '+14155550001', ...args }));
        assert.match(text, new RegExp(`: ${field}\\b[^:]*: (keys )?must not contain NUL`), JSON.stringify(args));
      }
      assert.equal(requests.placeCall, undefined, 'nothing was placed');
    } finally {
      await mcp.close();
    }
  });

  it('refuses a lone surrogate in stored text naming the field, instead of storing U+FFFD', async () => {
    const { backends, requests } = fakeBackends();
    const mcp = await connect(backends);
    try {
      const cases: [string, Record<string, unknown>][] = [
        ['task', { task: 'call \ud800 me' }],
        ['firstMessage', { task: 'x', firstMessage: 'hi \udc00' }],
        ['idempotencyKey', { task: 'x', idempotencyKey: 'key-1234-\udfff' }],
        ['metadata', { task: 'x', metadata: { ticket: 'a\ud83db' } }],
        ['metadata', { task: 'x', metadata: { 'ti\udc00cket': 'a' } }],
      ];
      for (const [field, args] of cases) {
        const text = refusal(await mcp.callTool('makePhoneCall', { to: '+14155550001', ...args }));
        assert.match(
          text,
          new RegExp(`: ${field}\\b[^:]*: (keys )?must not contain .*lone UTF-16 surrogate`),
          JSON.stringify(args),
        );
      }
      assert.equal(requests.placeCall, undefined, 'nothing was placed');
      // A well-formed pair (an emoji) is text like any other.
      const task = 'say \ud83d\ude00';
      const idempotencyKey = 'key-\ud83d\ude00-1234';
      structured(await mcp.callTool('makePhoneCall', { to: '+14155550001', task, idempotencyKey }));
      const placed = sent<{ task: string; idempotencyKey: string }>(requests, 'placeCall');
      assert.deepEqual([placed.task, placed.idempotencyKey], [task, idempotencyKey]);
    } finally {
      await mcp.close();
    }
  });
});

describe('updateCallPreferences', () => {
  it('clears quiet hours with null, keeps them when absent, and shows none as null', async () => {
    const { backends, requests } = fakeBackends();
    const mcp = await connect(backends);
    try {
      const cleared = await mcp.callTool('updateCallPreferences', { quietHours: null });
      assert.equal(cleared.error, undefined, JSON.stringify(cleared.error));
      const { patch } = sent<{ patch: Record<string, unknown> }>(requests, 'updatePreferences', 0);
      assert.deepEqual(patch.quietHours, { start: '', end: '' }, "user-credit's clear");
      await mcp.callTool('updateCallPreferences', { timezone: 'Europe/Paris' });
      const kept = sent<{ patch: Record<string, unknown> }>(requests, 'updatePreferences', 1).patch;
      assert.equal(kept.quietHours, null, 'absent: unchanged');
      const prefs = structured<{ preferences: Record<string, unknown> }>(cleared).preferences;
      assert.equal(prefs.quietHours, null);
    } finally {
      await mcp.close();
    }
  });

  it('offers recordingEnabled now that calls are recorded: passed on as a boolean, refused as anything else, shown in outputs', async () => {
    const { backends, requests } = fakeBackends();
    const mcp = await connect(backends);
    try {
      const text = refusal(await mcp.callTool('updateCallPreferences', { recordingEnabled: 'yes' }));
      assert.match(text, /Input validation error[\s\S]*recordingEnabled/);
      assert.equal(requests.updatePreferences, undefined, 'refused before user-credit');
      await mcp.callTool('updateCallPreferences', { recordingEnabled: true });
      const sent = requests.updatePreferences as { patch: { recordingEnabled?: boolean } }[] | undefined;
      assert.equal(sent?.at(-1)?.patch.recordingEnabled, true);
      const profile = await mcp.callTool('getProfile', {});
      assert.match(JSON.stringify(profile.result), /"recordingEnabled":false/, 'the fake preferences say false');
    } finally {
      await mcp.close();
    }
  });
});

describe('the apps:manage tools', () => {
  it('createPersonalToken refuses admin, apps:manage, unknown or repeated scopes, bad names and days before the auth service', async () => {
    const { backends, requests } = fakeBackends();
    const mcp = await connect(backends);
    try {
      const good = { name: 'agent', scopes: ['calls:read'], expiresInDays: 7 };
      const cases: [string, Record<string, unknown>][] = [
        ['scopes', { scopes: ['admin'] }],
        ['scopes', { scopes: ['apps:manage'] }],
        ['scopes', { scopes: ['calls:read', 'apps:manage'] }],
        ['scopes', { scopes: ['calls:read', 'calls:read'] }],
        ['scopes', { scopes: [] }],
        ['scopes', { scopes: 'calls:read' }],
        ['name', { name: '' }],
        ['name', { name: 'x'.repeat(65) }],
        ['name', { name: 'x'.repeat(1_000_000) }],
        ['name', { name: 'a\u0000b' }],
        ['name', { name: 42 }],
        ['expiresInDays', { expiresInDays: 0 }],
        ['expiresInDays', { expiresInDays: 366 }],
        ['expiresInDays', { expiresInDays: 1.5 }],
        ['userId', { userId: 'someone-else' }],
      ];
      for (const [field, change] of cases) {
        const text = refusal(await mcp.callTool('createPersonalToken', { ...good, ...change }));
        assert.match(text, new RegExp(`Input validation error[\\s\\S]*${field}`), JSON.stringify(change).slice(0, 200));
      }
      assert.equal(requests.createPersonalToken, undefined, 'none reached the auth service');
    } finally {
      await mcp.close();
    }
  });

  it('passes the verified user, never one from the arguments, and returns the token once', async () => {
    const { backends, requests } = fakeBackends();
    const mcp = await connect(backends);
    try {
      const created = structured<{ token: string; tokenId: string }>(
        await mcp.callTool('createPersonalToken', { name: 'agent', scopes: ['calls:read'], expiresInDays: 7 }),
      );
      assert.equal(created.token, 'cgp_secret');
      assert.deepEqual(sent(requests, 'createPersonalToken'), {
        userId: USER,
        name: 'agent',
        scopes: ['calls:read'],
        expiresInDays: 7,
      });
      const listed = structured<{ tokens: Record<string, unknown>[] }>(await mcp.callTool('listPersonalTokens', {}));
      assert.equal(listed.tokens[0]?.lastUsedAt, null, 'never used: null, not an empty string');
      assert.equal('token' in (listed.tokens[0] ?? {}), false, 'the secret is never listed');
      await mcp.callTool('revokeConnectedApp', { grantId: 'grant-1' });
      assert.deepEqual(sent(requests, 'revokeGrant'), { userId: USER, grantId: 'grant-1' });
      for (const grantId of ['', 'a\u0000b', 'x'.repeat(129), '../grants', 'a b']) {
        refusal(await mcp.callTool('revokeConnectedApp', { grantId }));
        refusal(await mcp.callTool('revokePersonalToken', { tokenId: grantId }));
      }
      assert.equal(requests.revokeGrant?.length, 1);
      assert.equal(requests.revokePersonalToken, undefined);
    } finally {
      await mcp.close();
    }
  });

  it('an unknown or another user’s id is the auth service’s "not found", as a tool error', async () => {
    const { backends } = fakeBackends({
      revokeGrant: () => {
        throw grpcError(status.NOT_FOUND, 'connected app not found: you have no grant with this id');
      },
    });
    const mcp = await connect(backends);
    try {
      const text = refusal(await mcp.callTool('revokeConnectedApp', { grantId: 'someone-elses' }));
      assert.equal(text, 'connected app not found: you have no grant with this id');
    } finally {
      await mcp.close();
    }
  });

  it('without an authorization server, says so instead of failing', async () => {
    const { backends } = fakeBackends();
    const mcp = await connect({ ...backends, auth: undefined });
    try {
      assert.match(refusal(await mcp.callTool('listConnectedApps', {})), /no authorization server/);
    } finally {
      await mcp.close();
    }
  });
});
