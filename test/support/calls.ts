/**
 * Helpers for the call service's integration tests: the local system with sandbox timing chosen by
 * the test, gRPC clients, a bounded poller, signed status callbacks, WatchCall collection; and a rig
 * (sandbox, SQS emulator, user-credit, sheets-sync and call-service instances in this process on one
 * database the test can read, with a carrier proxy in front of the sandbox) for the tests beside the
 * call service that must count or hold the carrier's create requests or play a crash (recordCrashedIntent).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callConfigShape, callIdFor, startCallService } from '@callgate/call';
import {
  closeHttp,
  connectService,
  createLogger,
  type Database,
  isGrpcError,
  isTerminalProto,
  loadConfig,
  ManualClock,
  PgliteDatabase,
  PostgresDatabase,
  type PromiseClient,
  type ServiceHandle,
} from '@callgate/common';
import type { callV1, creditV1 } from '@callgate/protos';
import { SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, sandboxConfigShape, startSandbox } from '@callgate/sandbox';
import { sheetsSyncConfigShape, startSheetsSyncService } from '@callgate/sheets-sync';
import { startUserCreditService, userCreditConfigShape } from '@callgate/user-credit';
import type { status } from '@grpc/grpc-js';
import twilio from 'twilio';
import { startLocalSqs } from '../../scripts/local-sqs.js';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { type CallRow, CallStore, type NewCall } from '../../services/call/src/call-store.js';
import { eventually, settles } from './eventually.js';

export type CallClient = PromiseClient<callV1.CallServiceDefinition>;
export type CreditClient = PromiseClient<creditV1.CreditServiceDefinition>;
export type Call = callV1.Call__Output;
export type WatchEvent = callV1.WatchCallEvent__Output;

/** Credits every new user gets (user-credit's SIGNUP_CREDITS default). */
export const SIGNUP_CREDITS = 500;
/** Fast sandbox timing: a call to 0001 is answered ~90 ms after it is placed and talks 200 ms (billed 1 s). */
export const FAST = { SANDBOX_CALL_STEP_MS: '30', SANDBOX_TALK_MS: '200' } as const;
/** The sandbox's numbers (last four digits decide the outcome). */
export const NUMBERS = {
  answers: '+14155550001',
  busy: '+14155550002',
  noAnswer: '+14155550003',
  fails: '+14155550004',
  machine: '+14155550005',
  /** Rings until the test says (heldPerson) or the call is canceled; once answered, talks until hung up. */
  held: '+14155550006',
} as const;
/** The default caller id of every user (CALLER_IDS default). */
export const ACCOUNT_CALLER_ID = '+15005550006';

/** A longest Node timer: a periodic job given this never runs after its start-up pass. */
export const NEVER_MS = '2147483647';

export function callClient(address: string, deadlineMs = 30_000): CallClient {
  return connectService('call', address, { defaultDeadlineMs: deadlineMs });
}

export function creditClient(address: string, deadlineMs = 30_000): CreditClient {
  return connectService('credit', address, { defaultDeadlineMs: deadlineMs });
}

/** PostgreSQL at DATABASE_URL for direct reads (ledger checks, call rows), or undefined on PGlite. */
export function openSharedDatabase(applicationName = 'callgate-call-tests'): Database | undefined {
  const url = process.env.DATABASE_URL;
  if (!url) return undefined;
  return new PostgresDatabase({ url, log: createLogger('test', 'silent'), applicationName, max: 4 });
}

export interface CallSystem {
  system: LocalSystem;
  call: CallClient;
  credit: CreditClient;
  /** The call service's public webhook base (its endpoints.webhooks). */
  webhooks: string;
  /** The sandbox carrier's Twilio API base URL. */
  twilio: string;
  /** Direct access to the shared PostgreSQL when DATABASE_URL is set; undefined on PGlite. */
  db: Database | undefined;
  stop(): Promise<void>;
}

/** The whole local system (ephemeral ports) with the given sandbox timing and call-service settings. */
export async function startCallSystem(env: Record<string, string> = {}): Promise<CallSystem> {
  const system = await startLocalSystem({
    ports: 'ephemeral',
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', ...FAST, ...env },
  });
  const webhooks = system.services.find((s) => s.name === 'call')?.endpoints.webhooks;
  const twilioBase = system.services.find((s) => s.name === 'sandbox')?.endpoints.twilio;
  if (!webhooks || !twilioBase) throw new Error('the call service has no webhooks endpoint, or the sandbox is missing');
  const call = callClient(system.grpc.call as string);
  const credit = creditClient(system.grpc['user-credit'] as string);
  const db = openSharedDatabase();
  return {
    system,
    call,
    credit,
    webhooks,
    twilio: twilioBase,
    db,
    stop: async () => {
      call.close();
      credit.close();
      await db?.close();
      await system.stop();
    },
  };
}

/** A new user (unique id) with the signup credits. */
export async function newUser(credit: CreditClient, prefix = 'calls'): Promise<string> {
  const userId = `${prefix}-${randomUUID()}`;
  const { created } = await credit.getUser({ userId, createIfMissing: true, displayName: 'Test', email: '' });
  if (!created) throw new Error(`user ${userId} already existed`);
  return userId;
}

/** A PlaceCall request to the answering number with a fresh idempotency key, overridable field by field. */
export function placeRequest(
  userId: string,
  overrides: Partial<callV1.PlaceCallRequest> = {},
): callV1.PlaceCallRequest & { idempotencyKey: string } {
  return {
    userId,
    to: NUMBERS.answers,
    task: 'Ask whether the shop is open on Sunday.',
    idempotencyKey: `key-${randomUUID()}`,
    ...overrides,
  } as callV1.PlaceCallRequest & { idempotencyKey: string };
}

/** Polls until a probe returns a value: the shared helper, re-exported for the tests that import it from here. */
export { eventually };

/** Whether a status as gRPC sends it is final (the status vocabulary's own test). */
export const isTerminalStatus = isTerminalProto;

/** Waits until GetCall shows the call in a status the predicate accepts; returns that view. */
export async function callWhere(
  client: CallClient,
  userId: string,
  callId: string,
  what: string,
  accept: (call: Call) => boolean,
  reportAfterMs = 5000,
): Promise<Call> {
  let last: Call | null = null;
  return eventually(
    what,
    async () => {
      const { call } = await client.getCall({ userId, callId });
      last = call;
      return call && accept(call) ? call : undefined;
    },
    reportAfterMs,
    {
      lastSeen: () => (last ? `${last.status}, reserved ${last.reservedCredits}, cost ${last.costCredits}` : 'nothing'),
    },
  );
}

/** Waits until the call ended and its credits were settled or released (nothing held for it any more). */
export function settledCall(client: CallClient, userId: string, callId: string, reportAfterMs = 5000): Promise<Call> {
  return callWhere(
    client,
    userId,
    callId,
    `call ${callId} to end and settle`,
    (c) => isTerminalStatus(c.status) && c.reservedCredits === 0,
    reportAfterMs,
  );
}

/** The gRPC status, message and typed error detail of a call that must fail. */
export { grpcFailure as rejection } from './credit.js';

/** Every usage entry of a user (optionally of one call), following page tokens, newest first. */
export async function usageOf(
  credit: CreditClient,
  userId: string,
  callId = '',
): Promise<creditV1.UsageEntry__Output[]> {
  const entries: creditV1.UsageEntry__Output[] = [];
  let pageToken = '';
  for (let page = 0; page < 100; page++) {
    const response = await credit.listUsage({ userId, pageSize: 100, pageToken, callId });
    entries.push(...response.entries);
    pageToken = response.nextPageToken;
    if (!pageToken) return entries;
  }
  throw new Error('ListUsage never ended');
}

/** The kinds of a call's ledger entries, oldest first, e.g. ['ENTRY_KIND_RESERVE', 'ENTRY_KIND_SETTLE']. */
export async function entryKindsOf(credit: CreditClient, userId: string, callId: string): Promise<string[]> {
  return (await usageOf(credit, userId, callId)).map((e) => e.kind).reverse();
}

export async function balanceOf(credit: CreditClient, userId: string): Promise<{ available: number; held: number }> {
  const { balance } = await credit.getBalance({ userId });
  return { available: Number(balance?.available), held: Number(balance?.held) };
}

/** Form parameters of a Twilio status callback for a call, as Twilio (and the sandbox) send them. */
export function statusParams(
  call: Pick<Call, 'carrierCallId' | 'to' | 'from'>,
  callStatus: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AccountSid: SANDBOX_ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: call.carrierCallId,
    CallStatus: callStatus,
    Called: call.to,
    Caller: call.from,
    CallbackSource: 'call-progress-events',
    Direction: 'outbound-api',
    From: call.from,
    To: call.to,
    Timestamp: new Date().toUTCString(),
    ...extra,
  };
}

/**
 * POSTs a status callback to the call service's webhook for callId, signed as Twilio signs it (the
 * full URL plus the sorted form parameters) unless signature says otherwise: a string is sent as is,
 * null sends none.
 */
export async function postStatusCallback(
  webhooks: string,
  callId: string,
  params: Record<string, string>,
  signature?: string | null,
): Promise<{ status: number; text: string }> {
  const url = `${webhooks}/twilio/status?callId=${callId}`;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const signed =
    signature === undefined ? twilio.getExpectedTwilioSignature(SANDBOX_AUTH_TOKEN, url, params) : signature;
  if (signed !== null) headers['x-twilio-signature'] = signed;
  const response = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
  return { status: response.status, text: await response.text() };
}

/**
 * Collects a WatchCall stream until the server ends it (or fails it). No deadline (see eventually.ts):
 * a stream that does not end is reported after reportAfterMs and failed by the test runner's timeout.
 */
export function watchAll(
  client: CallClient,
  request: { userId: string; callId: string; afterSequence?: number; untilSettled?: boolean },
  reportAfterMs = 5000,
  onEvent?: (event: WatchEvent) => void,
): Promise<{ events: WatchEvent[]; error?: { code: status; details: string } }> {
  const raw = client.raw as unknown as callV1.CallServiceClient;
  const collected = new Promise<{ events: WatchEvent[]; error?: { code: status; details: string } }>((resolve) => {
    const events: WatchEvent[] = [];
    const stream = raw.watchCall({
      userId: request.userId,
      callId: request.callId,
      afterSequence: request.afterSequence ?? 0,
      untilSettled: request.untilSettled ?? false,
    });
    stream.on('data', (event: WatchEvent) => {
      events.push(event);
      onEvent?.(event);
    });
    stream.on('error', (error) => {
      resolve({ events, error: isGrpcError(error) ? { code: error.code, details: error.details } : undefined });
    });
    stream.on('end', () => resolve({ events }));
  });
  return settles(collected, `WatchCall of ${request.callId} to end`, reportAfterMs);
}

/**
 * The person called acts on a call to NUMBERS.held (the sandbox's POST /sandbox/calls/{sid}/… or
 * /sandbox/numbers/{to}/…): `answer` picks up a ringing call, `hang-up` declines or ends it. A test waits
 * for the stage it acts in, then acts: no stage of such a call ends by itself.
 */
export async function heldPerson(
  sandboxBase: string,
  target: { sid: string } | { to: string },
  action: 'answer' | 'hang-up',
): Promise<void> {
  const where =
    'sid' in target ? `calls/${encodeURIComponent(target.sid)}` : `numbers/${encodeURIComponent(target.to)}`;
  const response = await fetch(`${sandboxBase}/sandbox/${where}/${action}`, { method: 'POST' });
  if (!response.ok)
    throw new Error(`the sandbox refused ${action} on ${where}: ${response.status} ${await response.text()}`);
}

/** The call as the sandbox carrier sees it (GET …/Calls/{sid}.json), e.g. { status: 'canceled' }. */
export async function carrierCall(
  twilioBase: string,
  sid: string,
): Promise<{ status: string; duration: string | null }> {
  const response = await fetch(`${twilioBase}/2010-04-01/Accounts/${SANDBOX_ACCOUNT_SID}/Calls/${sid}.json`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${SANDBOX_ACCOUNT_SID}:${SANDBOX_AUTH_TOKEN}`).toString('base64')}`,
    },
  });
  if (!response.ok) throw new Error(`the sandbox answered ${response.status} for ${sid}: ${await response.text()}`);
  return (await response.json()) as { status: string; duration: string | null };
}

// ---------------------------------------------------------------------------------------------------
// The carrier proxy and the in-process rig.

export interface CarrierCreate {
  /** The call id in the StatusCallback URL the call service gave the carrier. */
  callId: string;
  to: string;
}

export interface CarrierProxy {
  url: string;
  /** Every create (POST …/Calls.json) that reached the proxy, in order. */
  creates: CarrierCreate[];
  createsFor(callId: string): number;
  /** Holds create requests (after recording them) until the returned function is called. */
  holdCreates(): () => void;
  /** Resolves when a create for callId has reached the proxy. */
  createArrived(callId: string): Promise<void>;
  /**
   * From now on, the carrier's answer to a fetch of this call (GET …/Calls/{sid}.json) says these
   * fields (Twilio's names: status, duration, end_time) over the sandbox's: a call the test moves
   * step by step as the carrier would report it to a poll. undefined stops it.
   */
  answerFetch(sid: string, fields: Record<string, string> | undefined): void;
  /**
   * While on, calls created are given a StatusCallback of the proxy's own (answered 200, dropped): the
   * carrier's callbacks never reach the call service, and the test sends the ones it wants.
   */
  divertCallbacks(on: boolean): void;
  stop(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * An HTTP proxy in front of the sandbox's Twilio API that records every create, and can hold creates
 * so that a test acts while the call service waits for the carrier's answer.
 */
export async function startCarrierProxy(target: string): Promise<CarrierProxy> {
  const creates: CarrierCreate[] = [];
  const arrivals: { callId: string; resolve: () => void }[] = [];
  const fetchAnswers = new Map<string, Record<string, string>>();
  let divert = false;
  let gate: Promise<void> | undefined;
  let url = '';
  const server: Server = createServer((req, res) => {
    void (async () => {
      let body = await readAll(req);
      const path = req.url ?? '/';
      if (path.startsWith('/diverted-callbacks')) {
        res.writeHead(200).end();
        return;
      }
      if (req.method === 'POST' && /\/Calls\.json$/.test(new URL(path, 'http://proxy').pathname)) {
        const form = new URLSearchParams(body);
        const callback = form.get('StatusCallback') ?? '';
        const callId = URL.canParse(callback) ? (new URL(callback).searchParams.get('callId') ?? '') : '';
        creates.push({ callId, to: form.get('To') ?? '' });
        for (const waiter of arrivals.filter((w) => w.callId === callId)) {
          arrivals.splice(arrivals.indexOf(waiter), 1);
          waiter.resolve();
        }
        if (divert) {
          form.set('StatusCallback', `${url}/diverted-callbacks`);
          body = form.toString();
        }
        if (gate) await gate;
      }
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'accept', 'user-agent']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const upstream = await fetch(`${target}${path}`, {
        method: req.method ?? 'GET',
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
      });
      let text = await upstream.text();
      const fetched = req.method === 'GET' ? /\/Calls\/(CA[0-9a-f]{32})\.json$/.exec(path) : null;
      const answer = fetched?.[1] ? fetchAnswers.get(fetched[1]) : undefined;
      if (answer && upstream.ok) text = JSON.stringify({ ...(JSON.parse(text) as object), ...answer });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(text);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  return {
    url,
    creates,
    createsFor: (callId) => creates.filter((c) => c.callId === callId).length,
    holdCreates: () => {
      let release: () => void = () => undefined;
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      return release;
    },
    createArrived: (callId) =>
      creates.some((c) => c.callId === callId)
        ? Promise.resolve()
        : new Promise<void>((resolve) => arrivals.push({ callId, resolve })),
    divertCallbacks: (on) => {
      divert = on;
    },
    answerFetch: (sid, fields) => {
      if (fields) fetchAnswers.set(sid, fields);
      else fetchAnswers.delete(sid);
    },
    stop: () => closeHttp(server, 1000),
  };
}

export interface CallInstance {
  handle: ServiceHandle;
  client: CallClient;
  webhooks: string;
  stop(): Promise<void>;
}

export interface CallRig {
  /** The one database every service of the rig uses (PostgreSQL at DATABASE_URL, else in-memory PGlite). */
  db: Database;
  credit: CreditClient;
  carrier: CarrierProxy;
  /** The env every call-service instance of the rig gets (before its own overrides). */
  callEnv: Record<string, string>;
  /** Starts a call-service instance (another replica, or the one after a crash) against the rig. */
  startCall(env?: Record<string, string>): Promise<CallInstance>;
  /** With `sheet`: the sandbox's Google Sheet sheets-sync writes the calls to (Sheets API v4 at apiUrl). */
  sheet?: { apiUrl: string; spreadsheetId: string };
  stop(): Promise<void>;
}

/**
 * Sandbox, fauxqs, user-credit, sheets-sync and the call service in this process on ephemeral ports, sharing one
 * database the test can read and write, with the carrier proxy between the call service and the sandbox.
 * Call-service instances are started by the test (startCall), so a test can play a crash and a restart.
 */
export async function startCallRig(
  sandboxEnv: Record<string, string> = {},
  options: { sheet?: boolean } = {},
): Promise<CallRig> {
  const level = process.env.LOG_LEVEL ?? 'silent';
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };
  try {
    const shared = openSharedDatabase('callgate-call-rig');
    const db: Database = shared ?? (await PgliteDatabase.open());
    stops.push(() => db.close());
    const sandbox = await startSandbox(
      loadConfig('sandbox', sandboxConfigShape, { LOG_LEVEL: level, SANDBOX_PORT: '0', ...FAST, ...sandboxEnv }),
    );
    stops.push(() => sandbox.stop());
    const carrier = await startCarrierProxy(sandbox.endpoints.twilio as string);
    stops.push(() => carrier.stop());
    const fauxqs = await startLocalSqs();
    stops.push(async () => fauxqs.stop());
    const creditHandle = await startUserCreditService(
      loadConfig('user-credit', userCreditConfigShape, {
        LOG_LEVEL: level,
        GRPC_PORT: '0',
        METRICS_PORT: '0',
        EXPIRY_SWEEP_INTERVAL_MS: NEVER_MS,
      }),
      { db, ownsDb: false },
    );
    stops.push(() => creditHandle.stop());
    const creditAddress = `127.0.0.1:${creditHandle.grpcPort}`;
    const credit = creditClient(creditAddress);
    stops.push(async () => credit.close());
    const sheet = options.sheet
      ? { apiUrl: sandbox.endpoints.sheets as string, spreadsheetId: `rig-${randomUUID()}` }
      : undefined;
    const sheetEnv: Record<string, string> = sheet
      ? { GOOGLE_SHEETS_API_URL: sheet.apiUrl, GOOGLE_SHEETS_ID: sheet.spreadsheetId, SHEETS_FLUSH_AGE_MS: '20' }
      : {};
    const sheetsHandle = await startSheetsSyncService(
      loadConfig('sheets-sync', sheetsSyncConfigShape, {
        LOG_LEVEL: level,
        GRPC_PORT: '0',
        METRICS_PORT: '0',
        ...sheetEnv,
      }),
      { db, ownsDb: false },
    );
    stops.push(() => sheetsHandle.stop());
    const callEnv: Record<string, string> = {
      LOG_LEVEL: level,
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      WEBHOOK_PORT: '0',
      CREDIT_SERVICE_ADDR: creditAddress,
      SHEETS_SERVICE_ADDR: `127.0.0.1:${sheetsHandle.grpcPort}`,
      TWILIO_ACCOUNT_SID: SANDBOX_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: SANDBOX_AUTH_TOKEN,
      TWILIO_API_BASE_URL: carrier.url,
      SQS_ENDPOINT: fauxqs.address,
      // fauxqs serves S3 too: the recordings bucket (created by the call service at start).
      S3_ENDPOINT: fauxqs.address,
    };
    const instances = new Set<CallInstance>();
    stops.push(async () => {
      for (const instance of instances) await instance.stop();
    });
    const startCall = async (env: Record<string, string> = {}): Promise<CallInstance> => {
      const handle = await startCallService(loadConfig('call', callConfigShape, { ...callEnv, ...env }), {
        db,
        ownsDb: false,
      });
      const client = callClient(`127.0.0.1:${handle.grpcPort}`);
      let stopped: Promise<void> | undefined;
      const instance: CallInstance = {
        handle,
        client,
        webhooks: handle.endpoints.webhooks as string,
        stop: () => {
          stopped ??= (async () => {
            instances.delete(instance);
            client.close();
            await handle.stop();
          })();
          return stopped;
        },
      };
      instances.add(instance);
      return instance;
    };
    // The first instance migrates the calls schema, so a test can write intents before it starts its own.
    await (await startCall({ DIAL_GRACE_MS: '3600000', RECOVERY_INTERVAL_MS: '3600000' })).stop();
    return { db, credit, carrier, callEnv, startCall, ...(sheet && { sheet }), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * What PlaceCall does before it dials, and nothing after: hold the credits (PlaceCall's key and amount
 * for a 300 s call on the standard model) and record the intent in dial_state 'pending', as if the
 * process died right then. agoMs backdates it (recovery dials only intents older than DIAL_GRACE_MS).
 */
export async function recordCrashedIntent(
  rig: Pick<CallRig, 'db' | 'credit'>,
  userId: string,
  options: { agoMs: number; to?: string },
): Promise<CallRow> {
  const key = `crash-${randomUUID()}`;
  const callId = callIdFor(userId, key);
  const hold = 50;
  const { reservation } = await rig.credit.reserve({
    userId,
    amount: hold,
    idempotencyKey: `call:${callId}`,
    callId,
    ttlSeconds: 0,
  });
  const store = new CallStore(rig.db, new ManualClock(Date.now() - options.agoMs));
  const intent = {
    call_id: callId,
    user_id: userId,
    idempotency_key: key,
    to_number: options.to ?? NUMBERS.answers,
    from_number: ACCOUNT_CALLER_ID,
    task: 'Ask whether the shop is open on Sunday.',
    first_message: 'Hello, this is an AI assistant calling on behalf of a callgate user.',
    voice: 'en-US-Journey-O',
    model: 'callgate-standard',
    language: 'en-US',
    max_duration_seconds: 300,
    machine_detection: false,
    record: false,
    outcome_schema_json: '',
    metadata: {},
    credits_per_minute: 10,
    reservation_id: reservation?.reservationId ?? '',
    reserved_credits: hold,
    created_at: new Date(Date.now() - options.agoMs),
    // No fingerprint of a PlaceCall request (empty: a retry is not compared), for stores that keep one.
    request_hash: '',
  };
  const row = await store.insertIntent(intent as NewCall, 3);
  if (!row || row === 'limit' || 'dailyUsedSeconds' in row)
    throw new Error(`intent not recorded: ${JSON.stringify(row)}`);
  return row;
}
