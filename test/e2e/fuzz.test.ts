/**
 * Property-based fuzzing of /mcp with fast-check: random JSON-RPC-ish messages (real and made-up
 * methods, random params, ids of every type, batches up to thousands of entries, bodies that are not
 * JSON, huge numbers, nesting thousands of levels deep in ids, params, _meta, results and error data)
 * sent with a valid token over HTTP (with and without a session, and with assorted protocol-version
 * headers) and over WebSocket (a connection per frame, at a revision with batches and one without).
 * Every request with a usable id gets exactly one answer (or the text one error, id null, when it is
 * refused whole), the gateway never answers 5xx, every HTTP answer is JSON-RPC (as JSON or SSE) or an
 * empty 202/4xx, every WebSocket frame is JSON-RPC, the connection stays open, and afterwards the gateway
 * is healthy and serves tools/list. Below it, hostile messages one at a time, each with its exact answer.
 *
 * Seeded and bounded (numRuns, and a time limit after which it stops by itself): FUZZ_SEED and
 * FUZZ_RUNS override the defaults; the test's diagnostic says what was sent where and the statuses seen;
 * a failure prints the seed and the path that replays it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { type LocalSystem, startLocalSystem } from '../../scripts/local-system.js';
import { httpClient, tokenFor, wsClient } from '../support/system.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_728);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const TIME_LIMIT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_BODY = 262_144;

let system: LocalSystem;
let token: string;

before(async () => {
  system = await startLocalSystem({
    ports: 'ephemeral',
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      MCP_MAX_BODY_BYTES: String(MAX_BODY),
      WS_MAX_FRAME_BYTES: String(MAX_BODY),
      // The fuzzer is one user sending hundreds of requests in seconds: rate limits are not under test here.
      RATE_LIMIT_BURST: '100000',
      RATE_LIMIT_PER_MINUTE: '6000000',
    },
  });
  token = tokenFor(system, 'fuzzer', 3600);
});
after(async () => {
  await system?.stop();
});

// ---------------------------------------------------------------------------------------------------
// What a valid answer looks like.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isId = (id: unknown) => id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));

/** A JSON-RPC 2.0 message a server may send: a response (result xor error) or a request/notification of its own. */
function jsonRpcProblem(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return 'not an object';
  const m = message as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return 'jsonrpc is not "2.0"';
  if (typeof m.method === 'string') return m.id === undefined || isId(m.id) ? undefined : 'bad request id';
  if (!('id' in m) || !isId(m.id)) return 'response without a valid id';
  const hasResult = 'result' in m;
  const hasError = 'error' in m;
  if (hasResult === hasError) return 'a response needs exactly one of result and error';
  if (hasError) {
    const error = m.error as { code?: unknown; message?: unknown } | null;
    if (typeof error !== 'object' || error === null) return 'error is not an object';
    if (!Number.isInteger(error.code)) return 'error.code is not an integer';
    if (typeof error.message !== 'string') return 'error.message is not a string';
  }
  return undefined;
}

function bodyProblem(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0) return 'empty batch answer';
    return value.map(jsonRpcProblem).find(Boolean);
  }
  return jsonRpcProblem(value);
}

/** Why an HTTP answer is unacceptable, or undefined. */
function httpProblem(status: number, contentType: string, text: string): string | undefined {
  if (status >= 500) return `HTTP ${status}`;
  if (text.trim() === '') return status === 202 || (status >= 400 && status < 500) ? undefined : `empty ${status}`;
  if (contentType.includes('text/event-stream')) {
    const events = text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trim())
      .filter(Boolean);
    for (const data of events) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        return `SSE data is not JSON: ${data.slice(0, 200)}`;
      }
      const problem = bodyProblem(parsed);
      if (problem) return `SSE event: ${problem}`;
    }
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `body is not JSON (${contentType}): ${text.slice(0, 200)}`;
  }
  return bodyProblem(parsed);
}

/** The gateway's documented limits: nesting depth and entries per batch (services/gateway/src/transports/jsonrpc-check.ts). */
const MAX_DEPTH = 64;
const MAX_BATCH = 64;

function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, d + 1);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

/**
 * What a text is owed, by the rules the gateway states: refused whole (one error, id null) when it is
 * not JSON, nested too deep, or a batch that is empty, too large or not allowed; otherwise one answer
 * per request with a usable id (a string or finite number), or none to one for a request a
 * notifications/cancelled in the same text names (a cancelled request is not answered).
 */
function owedAnswers(text: string, batchesAllowed: boolean) {
  const refused = { refused: true, ids: new Map<unknown, { least: number; most: number }>() };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refused;
  }
  if (depthOf(parsed) > MAX_DEPTH) return refused;
  if (Array.isArray(parsed) && (!batchesAllowed || parsed.length === 0 || parsed.length > MAX_BATCH)) return refused;
  const entries = (Array.isArray(parsed) ? parsed : [parsed]).filter(
    (e): e is Record<string, unknown> => typeof e === 'object' && e !== null && !Array.isArray(e),
  );
  const cancelled = new Set(
    entries
      .filter((e) => e.method === 'notifications/cancelled')
      .map((e) => (e.params as { requestId?: unknown } | undefined)?.requestId),
  );
  const ids = new Map<unknown, { least: number; most: number }>();
  for (const e of entries) {
    const usable = typeof e.id === 'string' || (typeof e.id === 'number' && Number.isFinite(e.id));
    if (!usable || !('method' in e || !('result' in e || 'error' in e))) continue;
    const n = ids.get(e.id) ?? { least: 0, most: 0 };
    n.most++;
    if (!cancelled.has(e.id)) n.least++;
    ids.set(e.id, n);
  }
  return { refused: false, ids };
}

/** The JSON-RPC answers in an HTTP body (JSON or SSE), flattened. */
function answersIn(contentType: string, text: string): { id?: unknown }[] {
  const datas = contentType.includes('text/event-stream')
    ? text
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
    : [text];
  return datas.flatMap((data) => {
    try {
      const parsed = JSON.parse(data);
      return Array.isArray(parsed) ? parsed : [parsed];
    } catch {
      return [];
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// What the fuzzer sends.

const REAL_METHODS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'tasks/get',
  'tasks/list',
  'tasks/cancel',
];
const TOOLS = [
  'makePhoneCall',
  'getCallDetails',
  'getCallHistory',
  'getCallProgress',
  'cancelCall',
  'getVoiceOptions',
  'getModelOptions',
  'getCreditBalance',
  'getProfile',
  'updateCallPreferences',
];
const URIS = [
  'callgate://calls',
  'callgate://calls/00000000-0000-0000-0000-000000000000',
  'callgate://me/profile',
  'callgate://me/preferences',
  'callgate://me/credits/balance',
  'callgate://me/credits/usage?pageSize=-1&from=yesterday',
  'file:///etc/passwd',
  'callgate://calls/../../me/profile',
];

const huge = fc.constantFrom(
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  Number.MIN_SAFE_INTEGER - 2,
  5e-324,
  -0,
  2 ** 63,
  123_456_789_012_345_680_000,
);
const json: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>;
const id = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 24 }),
  fc.constant(null),
  huge,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  json,
);
const method = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...REAL_METHODS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'tools/', 'rpc.discover', '', 'TOOLS/LIST') },
);
/** Nested arrays and objects, depth 1 to 300 (well inside the body limit). */
const deep = fc.tuple(fc.integer({ min: 1, max: 300 }), fc.boolean()).map(([depth, objects]) => {
  let value: Json = 'bottom';
  for (let i = 0; i < depth; i++) value = objects ? { a: value } : [value];
  return value;
});
const toolArguments = fc.oneof(
  fc.dictionary(
    fc.constantFrom('callId', 'to', 'task', 'wait', 'cursor', 'pageSize', 'status', 'from', 'voice', '__proto__'),
    fc.oneof(json, huge, deep),
  ),
  json,
  deep,
);
const params = fc.oneof(
  json,
  deep,
  fc.record(
    { name: fc.oneof(fc.constantFrom(...TOOLS), fc.string({ maxLength: 20 })), arguments: toolArguments },
    { requiredKeys: [] },
  ),
  fc.record({ uri: fc.oneof(fc.constantFrom(...URIS), fc.string({ maxLength: 60 })) }, { requiredKeys: [] }),
  fc.record({ _meta: json, protocolVersion: fc.string({ maxLength: 12 }), cursor: json }, { requiredKeys: [] }),
);
/** Something shaped more or less like a JSON-RPC message; every field may be missing or wrong. */
const chaotic = fc.record(
  {
    jsonrpc: fc.oneof({ weight: 6, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: json }),
    id,
    method,
    params,
    result: json,
    error: fc.record({ code: fc.oneof(fc.integer(), huge), message: fc.string() }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
/** A well-formed request for a real method, with parameters that are plausible or not. */
const wellFormed = fc.oneof(
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id: fc.oneof(fc.nat(), fc.string({ minLength: 1, maxLength: 16 })),
    method: fc.constant('tools/call'),
    params: fc.record({ name: fc.constantFrom(...TOOLS), arguments: toolArguments }, { requiredKeys: ['name'] }),
  }),
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id: fc.oneof(fc.nat(), fc.string({ minLength: 1, maxLength: 16 })),
    method: fc.constant('resources/read'),
    params: fc.record({ uri: fc.oneof(fc.constantFrom(...URIS), fc.string({ maxLength: 60 })) }),
  }),
  fc.record(
    {
      jsonrpc: fc.constant('2.0'),
      id: fc.oneof(fc.nat(), fc.string({ minLength: 1, maxLength: 16 })),
      method: fc.constantFrom(...REAL_METHODS),
      params: fc.oneof(
        fc.constant({}),
        fc.record({ cursor: fc.oneof(fc.string({ maxLength: 40 }), json) }),
        fc.dictionary(fc.string({ maxLength: 10 }), json, { maxKeys: 4 }),
      ),
    },
    { requiredKeys: ['jsonrpc', 'id', 'method'] },
  ),
  // Notifications: no id, so no answer.
  fc.record(
    {
      jsonrpc: fc.constant('2.0'),
      method: fc.constantFrom('notifications/initialized', 'notifications/cancelled', 'notifications/progress', 'x/y'),
      params: fc.oneof(fc.record({ requestId: id, reason: fc.string() }), json),
    },
    { requiredKeys: ['jsonrpc', 'method'] },
  ),
);
const message = fc.oneof({ weight: 3, arbitrary: wellFormed }, { weight: 2, arbitrary: chaotic });

const text = fc.oneof(
  { weight: 6, arbitrary: message.map((m) => JSON.stringify(m)) },
  { weight: 2, arbitrary: fc.array(message, { maxLength: 6 }).map((batch) => JSON.stringify(batch)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) },
  { weight: 1, arbitrary: json.map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'null',
      '[]',
      '[[]]',
      '{}',
      '"x"',
      '1e999',
      '-',
      '\u0000',
      '\uFEFF{"jsonrpc":"2.0","id":1,"method":"ping"}',
      '{"jsonrpc":"2.0","id":1,"method":"ping"',
      '{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}',
      '{"jsonrpc":"2.0","id":1e400,"method":"tools/list"}',
      '{"jsonrpc":"2.0","id":1,"method":"ping","__proto__":{"admin":true}}',
      '{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}',
    ),
  },
  // Nesting thousands of levels deep in the id, params, _meta, a response's result or error.data: where
  // JSON.stringify and the SDK's schemas would overflow the stack (a 14 KB frame once ended the process).
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 65, max: 6000 }), fc.constantFrom('id', 'params', '_meta', 'result', 'data'))
      .map(([depth, where]) => {
        const deep = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        if (where === 'id') return `{"jsonrpc":"2.0","id":${deep},"method":"ping"}`;
        if (where === 'params') return `{"jsonrpc":"2.0","id":"deep","method":"tools/call","params":${deep}}`;
        if (where === '_meta') return `{"jsonrpc":"2.0","id":"deep","method":"tools/list","params":{"_meta":${deep}}}`;
        if (where === 'result') return `{"jsonrpc":"2.0","id":"deep","result":${deep}}`;
        return `{"jsonrpc":"2.0","id":"deep","error":{"code":1,"message":"x","data":${deep}}}`;
      }),
  },
  // Batches around and far past the limit: bare values (one error each, once) or requests with their own ids.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 5000 }), fc.boolean())
      .map(([n, requests]) =>
        requests
          ? `[${Array.from({ length: n }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"ping"}`).join(',')}]`
          : `[${'1,'.repeat(n - 1)}1]`,
      ),
  },
  // Deep nesting as raw text: arrays nested up to 2000 levels, still far below the body limit.
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 2000 })
      .map(
        (depth) => `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      ),
  },
);

const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2026-07-28', 'not-a-version'];

interface FuzzRequest {
  /** http: no session (2025 era); session: in an open session; modern: 2026-07-28 stateless; websocket: a frame. */
  via: 'http' | 'session' | 'modern' | 'websocket';
  body: string;
  /** The revision a WebSocket is initialized at (batches are allowed before 2025-06-18). */
  revision: string;
  headers: Record<string, string>;
}

const commonHeaders = fc.record({
  'content-type': fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=latin1', '') },
  ),
  accept: fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json, text/event-stream') },
    { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html') },
  ),
});

const legacyRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.constantFrom('http' as const, 'session' as const, 'websocket' as const),
    text,
    commonHeaders,
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('2025-11-25', undefined) },
      { weight: 1, arbitrary: fc.constantFrom(...PROTOCOL_VERSIONS) },
    ),
    fc.constantFrom('2025-03-26', '2025-11-25'),
  )
  .map(([via, body, headers, version, revision]) => ({
    via,
    body,
    revision,
    headers: { ...headers, ...(version ? { 'mcp-protocol-version': version } : {}) },
  }));

/** The per-request envelope of the 2026-07-28 revision. */
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'fuzzer', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** 2026-07-28 requests: the envelope in params._meta (usually right), Mcp-Method and Mcp-Name headers (usually matching). */
const modernRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    fc.oneof({ weight: 3, arbitrary: wellFormed }, { weight: 1, arbitrary: chaotic }),
    fc.oneof({ weight: 5, arbitrary: fc.constant<Json>(ENVELOPE) }, { weight: 1, arbitrary: json }),
    fc.oneof({ weight: 5, arbitrary: fc.constant('match') }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) }),
    commonHeaders,
    fc.oneof(
      { weight: 6, arbitrary: fc.constant('2026-07-28') },
      { weight: 1, arbitrary: fc.constantFrom(...PROTOCOL_VERSIONS, undefined) },
    ),
  )
  .map(([message, envelope, methodHeader, headers, version]) => {
    const m = { ...(message as Record<string, unknown>) };
    const params = m.params;
    if (typeof params === 'object' && params !== null && !Array.isArray(params))
      m.params = { ...params, _meta: envelope };
    else if (params === undefined) m.params = { _meta: envelope };
    const named = m.params as { name?: unknown; uri?: unknown } | undefined;
    const name = typeof named?.name === 'string' ? named.name : typeof named?.uri === 'string' ? named.uri : undefined;
    const extra: Record<string, string> = {};
    if (version) extra['mcp-protocol-version'] = version;
    if (methodHeader !== 'match') extra['mcp-method'] = methodHeader;
    else if (typeof m.method === 'string') extra['mcp-method'] = m.method;
    if (name !== undefined) extra['mcp-name'] = name;
    // Header values must be ByteStrings; fetch refuses anything else before it reaches the gateway.
    for (const [k, v] of Object.entries(extra)) if (!/^[\x20-\x7e]*$/.test(v)) delete extra[k];
    return {
      via: 'modern' as const,
      body: JSON.stringify(m),
      revision: '2026-07-28',
      headers: { ...headers, ...extra },
    };
  });

const request = fc.oneof({ weight: 3, arbitrary: legacyRequest }, { weight: 1, arbitrary: modernRequest });

// ---------------------------------------------------------------------------------------------------
// Where it is sent.

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'fuzzer', version: '1' } },
});

async function openSession(): Promise<string> {
  const res = await fetch(system.mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: initialize,
  });
  await res.text();
  const id = res.headers.get('mcp-session-id');
  assert.ok(id, `initialize opened no session (HTTP ${res.status})`);
  await fetch(system.mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': id,
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  }).then((r) => r.text());
  return id;
}

/** One WebSocket that checks every frame it receives, and answers sentinels so a run knows when it is done. */
class FuzzSocket {
  readonly problems: string[] = [];
  /** Every JSON frame received. */
  readonly frames: { id?: unknown; error?: unknown }[] = [];
  private wakers: (() => void)[] = [];
  private readonly waiting = new Map<string, () => void>();
  private sentinels = 0;
  closed: { code: number; reason: string } | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(data));
      } catch {
        this.problems.push(`frame is not JSON: ${String(data).slice(0, 200)}`);
        return;
      }
      const problem = bodyProblem(parsed);
      if (problem) this.problems.push(`${problem}: ${String(data).slice(0, 200)}`);
      this.frames.push(parsed as { id?: unknown });
      for (const wake of this.wakers.splice(0)) wake();
      const sentinel = (parsed as { id?: unknown }).id;
      if (typeof sentinel === 'string') this.waiting.get(sentinel)?.();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      for (const resolve of this.waiting.values()) resolve();
      for (const wake of this.wakers.splice(0)) wake();
    });
  }

  /** A connection initialized at `revision` (2025-03-26 still has batches; later ones do not). */
  static async open(revision = '2025-11-25'): Promise<FuzzSocket> {
    const ws = new WebSocket(system.mcpUrl.replace('http://', 'ws://'), 'mcp', {
      headers: { authorization: `Bearer ${token}` },
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const socket = new FuzzSocket(ws);
    ws.send(initialize.replace('2025-11-25', revision));
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    await socket.settle();
    return socket;
  }

  send(frame: string): void {
    this.ws.send(frame);
  }

  /** Resolves once `done` holds for the frames received, or the connection closed. */
  async until(done: () => boolean): Promise<void> {
    while (!done() && !this.closed) await new Promise<void>((wake) => this.wakers.push(wake));
  }

  /** Sends a ping and waits for its answer: everything sent before has been dispatched. */
  async settle(): Promise<void> {
    if (this.closed) return;
    const id = `fuzz-sentinel-${++this.sentinels}`;
    const answered = new Promise<void>((resolve) => this.waiting.set(id, resolve));
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' }));
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), REQUEST_TIMEOUT_MS).unref());
    const outcome = await Promise.race([answered, timer]);
    this.waiting.delete(id);
    if (outcome === 'timeout') this.problems.push(`no answer to ${id} within ${REQUEST_TIMEOUT_MS} ms`);
  }

  close(): void {
    this.ws.close();
  }
}

describe('fuzzing /mcp', () => {
  it(`${RUNS} random messages (seed ${SEED}) over HTTP and WebSocket: no 5xx, only JSON-RPC, no crash`, {
    timeout: TIME_LIMIT_MS + 60_000,
  }, async (t) => {
    let session = await openSession();
    const seen = { http: 0, session: 0, modern: 0, websocket: 0, statuses: new Map<string, number>() };
    try {
      await fc.assert(
        fc.asyncProperty(request, async (r: FuzzRequest) => {
          seen[r.via]++;
          if (r.via === 'websocket') {
            // A connection of its own, so the answers on it are this frame's and nothing else's.
            const socket = await FuzzSocket.open(r.revision);
            try {
              const owed = owedAnswers(r.body, r.revision < '2025-06-18');
              const from = socket.frames.length;
              socket.send(r.body);
              await socket.settle();
              const mine = () => socket.frames.slice(from).filter((f) => !String(f.id).startsWith('fuzz-sentinel'));
              if (owed.refused) {
                // Refused whole (not JSON, too deep, a batch not allowed here, too large): one error, id null.
                const answers = mine();
                assert.equal(
                  answers.length,
                  1,
                  `one answer to a refused frame: ${JSON.stringify(answers).slice(0, 300)}`,
                );
                assert.equal(answers[0]?.id, null);
              } else {
                // The gate answers at once; what the server answers may come later: wait for each owed id.
                const count = (id: unknown) => mine().filter((f) => f.id === id).length;
                await socket.until(() => [...owed.ids].every(([id, n]) => count(id) >= n.least));
                for (const [id, n] of owed.ids) {
                  const c = count(id);
                  assert.ok(
                    c >= n.least && c <= n.most,
                    `id ${JSON.stringify(id)}: ${c} answers, owed ${n.least}..${n.most}`,
                  );
                }
              }
              assert.deepEqual(socket.problems, [], 'every frame is JSON-RPC');
              assert.equal(
                socket.closed,
                undefined,
                `the gateway closed the WebSocket: ${JSON.stringify(socket.closed)}`,
              );
            } finally {
              socket.close();
            }
            return;
          }
          const headers: Record<string, string> = { authorization: `Bearer ${token}` };
          for (const [k, v] of Object.entries(r.headers)) if (v) headers[k] = v;
          if (r.via === 'session') headers['mcp-session-id'] = session;
          const res = await fetch(system.mcpUrl, {
            method: 'POST',
            headers,
            body: r.body,
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          const body = await res.text();
          const key = `${r.via} ${res.status}`;
          seen.statuses.set(key, (seen.statuses.get(key) ?? 0) + 1);
          const problem = httpProblem(res.status, res.headers.get('content-type') ?? '', body);
          assert.equal(problem, undefined, `HTTP ${res.status}: ${problem}; body ${body.slice(0, 300)}`);
          const answers = answersIn(res.headers.get('content-type') ?? '', body);
          const owed = owedAnswers(r.body, true);
          // Served (200), or refused entry by entry (an answer with an id): each owed id exactly once.
          const served = res.status === 200 || answers.some((a) => a.id !== null && a.id !== undefined);
          for (const [id, n] of owed.refused ? [] : owed.ids) {
            const c = answers.filter((a) => a.id === id).length;
            const least = served ? n.least : 0;
            assert.ok(
              c >= least && c <= n.most,
              `HTTP ${res.status}: id ${JSON.stringify(id)} answered ${c} times; ${body.slice(0, 300)}`,
            );
          }
          // A message may end the session (or the user's session limit may); carry on with a new one.
          if (r.via === 'session' && res.status === 404) session = await openSession();
        }),
        {
          numRuns: RUNS,
          seed: SEED,
          plugins: [fc.interruptAfterTimeLimit(TIME_LIMIT_MS), fc.timeout(REQUEST_TIMEOUT_MS + 5000)],
        },
      );
    } finally {
      t.diagnostic('done');
    }
    t.diagnostic(JSON.stringify({ ...seen, statuses: Object.fromEntries(seen.statuses) }));
    assert.ok(
      seen.http > 0 && seen.session > 0 && seen.modern > 0 && seen.websocket > 0,
      `every route was fuzzed: ${JSON.stringify(seen)}`,
    );

    // Still standing: healthy, and a well-behaved client is served over both transports.
    const health = await fetch(system.mcpUrl.replace('/mcp', '/healthz'));
    assert.equal(health.status, 200);
    for (const connect of [httpClient, wsClient]) {
      const client = await connect(system, tokenFor(system, 'after-the-fuzz'));
      try {
        const { tools } = await client.listTools();
        assert.ok(tools.some((t) => t.name === 'getCallDetails'));
      } finally {
        await client.close();
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// Hostile messages, one at a time: each gets its answer, and the gateway, the connection and other users
// carry on.

/** A raw WebSocket that keeps every frame it receives, and waits on the frames it needs. */
class RawSocket {
  readonly frames: { id?: unknown; error?: { code: number; message: string }; result?: unknown }[] = [];
  private readonly waiters: (() => void)[] = [];
  private sentinels = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)));
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.on('close', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get open() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** A connection of user `sub`, initialized at `revision`. */
  static async open(sub: string, revision: string): Promise<RawSocket> {
    const ws = new WebSocket(system.mcpUrl.replace('http://', 'ws://'), 'mcp', {
      headers: { authorization: `Bearer ${tokenFor(system, sub, 3600)}` },
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const socket = new RawSocket(ws);
    ws.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'init',
        method: 'initialize',
        params: { protocolVersion: revision, capabilities: {}, clientInfo: { name: 'hostile', version: '1' } },
      }),
    );
    await socket.answerTo('init');
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    socket.frames.length = 0;
    return socket;
  }

  /** Resolves once `done` holds for the frames received (or the connection closed). */
  async until(done: () => boolean): Promise<void> {
    while (!done() && this.open) await new Promise<void>((wake) => this.waiters.push(wake));
  }

  async answerTo(id: unknown) {
    await this.until(() => this.frames.some((f) => f.id === id));
    return this.frames.find((f) => f.id === id);
  }

  /**
   * Sends `frame`, then a ping, and returns every frame answered before the ping's answer: messages of
   * one connection are handled in order, and the gate answers what it refuses at once.
   */
  async exchange(frame: string) {
    const sentinel = `sentinel-${++this.sentinels}`;
    const from = this.frames.length;
    this.ws.send(frame);
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id: sentinel, method: 'ping' }));
    await this.answerTo(sentinel);
    const at = this.frames.findIndex((f) => f.id === sentinel);
    assert.ok(at >= 0, `no answer to the ping after ${frame.slice(0, 80)}: the connection closed`);
    return this.frames.slice(from, at);
  }

  close() {
    this.ws.close();
  }
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('hostile messages, one at a time', () => {
  // A rejection nobody handles is a transport bug (by default it would end the process): none may occur.
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  before(() => process.on('unhandledRejection', record));
  after(() => {
    process.off('unhandledRejection', record);
  });
  // Only a safety net so a regression fails instead of hanging: every wait below is on an answer.
  const HANG = { timeout: 120_000 };
  it(
    'a frame nested thousands of levels deep (id, params, result, error.data) is refused, and everyone carries on',
    HANG,
    async () => {
      const socket = await RawSocket.open('hostile-deep', '2025-11-25');
      const frames = [
        `{"jsonrpc":"2.0","id":${nested(5000)},"method":"ping"}`,
        `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":${deepObject(5000)}}}`,
        `{"jsonrpc":"2.0","id":"r1","result":${deepObject(5000)}}`,
        `{"jsonrpc":"2.0","id":"r2","error":{"code":1,"message":"x","data":${nested(5000)}}}`,
      ];
      for (const frame of frames) {
        const answers = await socket.exchange(frame);
        assert.equal(answers.length, 1, `one answer to ${frame.slice(0, 60)}: ${JSON.stringify(answers)}`);
        assert.equal(answers[0]?.error?.code, -32600);
        assert.match(String(answers[0]?.error?.message), /nested deeper/);
      }
      // The same connection, and another user, are still served.
      await socket.exchange('{"jsonrpc":"2.0","id":"after","method":"tools/list"}');
      const list = await socket.answerTo('after');
      assert.ok(Array.isArray((list?.result as { tools?: unknown[] } | undefined)?.tools), JSON.stringify(list));
      socket.close();
      const other = await wsClient(system, tokenFor(system, 'hostile-bystander'));
      try {
        assert.ok((await other.listTools()).tools.length > 0);
      } finally {
        await other.close();
      }
      assert.deepEqual(unhandled.map(String), []);
    },
  );

  it(
    'malformed requests over WebSocket each get exactly one answer with the right error, as over HTTP',
    HANG,
    async () => {
      const cases: [string, number][] = [
        ['{"jsonrpc":"2.0","id":"t1","method":"tools/list","params":{},"extra":1}', -32600],
        ['{"jsonrpc":"2.0","id":"t2","method":"tools/list","params":"x"}', -32602],
        ['{"jsonrpc":"2.0","id":"t3","method":"tools/list","params":[1]}', -32602],
        ['{"jsonrpc":"2.0","id":true,"method":"tools/list"}', -32600],
        ['{"jsonrpc":"2.0","id":"t5","method":5}', -32600],
        ['{"jsonrpc":"2.0","id":"t6","method":"tools/list","params":{"_meta":"x"}}', -32602],
        ['{"jsonrpc":"2.0","id":"t7","method":"tools/list","params":{"_meta":{"progressToken":true}}}', -32602],
        ['{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600],
        ['{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600],
        ['{"jsonrpc":"1.0","id":"t10","method":"ping"}', -32600],
        ['{"jsonrpc":"2.0","id":"t11"}', -32600],
        ['{"jsonrpc":"2.0","id":"t12","method":"ping"', -32700],
        ['[]', -32600],
        ['[1]', -32600],
      ];
      const socket = await RawSocket.open('hostile-shapes', '2025-03-26');
      const session = await openSession();
      try {
        for (const [frame, code] of cases) {
          const answers = await socket.exchange(frame);
          assert.equal(answers.length, 1, `one answer over WebSocket to ${frame}: ${JSON.stringify(answers)}`);
          assert.equal(answers[0]?.error?.code, code, `${frame}: ${JSON.stringify(answers[0])}`);
          const parsed = (() => {
            try {
              return JSON.parse(frame);
            } catch {
              return undefined;
            }
          })();
          const id = parsed?.id;
          const expectedId = typeof id === 'string' || typeof id === 'number' ? id : null;
          assert.equal(answers[0]?.id, Array.isArray(parsed) ? null : expectedId, frame);

          const res = await fetch(system.mcpUrl, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              'mcp-session-id': session,
              'mcp-protocol-version': '2025-03-26',
            },
            body: frame,
          });
          assert.equal(res.status, 400, frame);
          const body = await res.json();
          const answer = Array.isArray(body) ? body : [body];
          assert.equal(answer.length, 1, `one answer over HTTP to ${frame}: ${JSON.stringify(body)}`);
          assert.equal(answer[0].error.code, code, `HTTP ${frame}: ${JSON.stringify(body)}`);
        }
        // A valid notification is answered by nobody.
        assert.deepEqual(await socket.exchange('{"jsonrpc":"2.0","method":"notifications/x"}'), []);
      } finally {
        socket.close();
      }
    },
  );

  it(
    'WebSocket batches follow HTTP’s rules: none after 2025-06-18, at most 64 entries before, one answer per request',
    HANG,
    async () => {
      const modern = await RawSocket.open('hostile-batch-new', '2025-11-25');
      const refused = await modern.exchange(JSON.stringify([{ jsonrpc: '2.0', id: 'b1', method: 'ping' }]));
      assert.equal(refused.length, 1, JSON.stringify(refused));
      assert.equal(refused[0]?.id, null);
      assert.match(String(refused[0]?.error?.message), /does not allow JSON-RPC batches/);
      modern.close();

      const old = await RawSocket.open('hostile-batch-old', '2025-03-26');
      // A megabyte of [1,1,…] is one answer, not one per entry.
      const flood = `[${'1,'.repeat(100_000)}1]`;
      const flooded = await old.exchange(flood);
      assert.equal(flooded.length, 1, `${flooded.length} answers to a batch of 100,001`);
      assert.match(String(flooded[0]?.error?.message), /batch of 100001 messages is more than the 64/);
      // A batch within the limit: each request answered once, each bad entry refused once.
      const batch = [
        { jsonrpc: '2.0', id: 'p1', method: 'ping' },
        1,
        { jsonrpc: '2.0', method: 'notifications/x' },
        { jsonrpc: '2.0', id: 'p2', method: 'ping' },
        { jsonrpc: '2.0', id: 'bad', method: 'ping', params: 'x' },
      ];
      old.frames.length = 0;
      await old.exchange(JSON.stringify(batch));
      await old.until(() => ['p1', 'p2', 'bad'].every((id) => old.frames.some((f) => f.id === id)));
      const answers = old.frames.filter((f) => !String(f.id).startsWith('sentinel'));
      assert.deepEqual(answers.map((f) => f.id).sort(), [null, 'bad', 'p1', 'p2'].sort());
      assert.equal(answers.find((f) => f.id === 'bad')?.error?.code, -32602);
      old.close();
    },
  );

  it('a 2026-07-28 request with a deeply nested _meta gets 400 and -32600, not 500', async () => {
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"x","version":"1"},"io.modelcontextprotocol/clientCapabilities":{},"deep":${deepObject(5000)}}}}`;
    const res = await fetch(system.mcpUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
      },
      body,
    });
    const text = await res.text();
    assert.equal(res.status, 400, text);
    assert.equal(JSON.parse(text).error.code, -32600, text);
  });
});
