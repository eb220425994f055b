import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
} from '@modelcontextprotocol/server';

/**
 * The one gate every incoming JSON-RPC text passes on every transport (HTTP POST bodies, WebSocket
 * frames) before anything else reads it: nesting depth, JSON, the JSON-RPC 2.0 envelope as MCP uses it,
 * and the batch rules. What passes is safe to hand to the SDK; what fails carries the error that answers
 * it, so every request with an id is answered exactly once and nothing recursive ever sees a hostile tree.
 */

/**
 * Deepest nesting of arrays and objects accepted in a message, the envelope included. MCP messages are
 * a handful of levels deep; JSON.stringify and the SDK's schemas recurse, and overflow the stack a few
 * thousand levels down, so the limit sits far below that and far above any real tool argument.
 */
export const MAX_JSON_DEPTH = 64;

/** Entries a JSON-RPC batch may hold (revisions that still have batches), on every transport. */
export const MAX_BATCH_ENTRIES = 64;

/** JSON-RPC 2.0 error codes the gate answers with. */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const INVALID_PARAMS = -32602;

export interface JsonRpcErrorBody {
  code: number;
  message: string;
}

/** An id the gate can echo in its answer: a string or a finite number; anything else is answered as null. */
export type AnswerId = string | number | null;

export type CheckedEntry = { ok: true; message: JSONRPCMessage } | { ok: false; id: AnswerId; error: JsonRpcErrorBody };

export type Checked =
  /** The whole text is refused (not JSON, too deep, a batch not allowed…): one answer, id null. */
  { ok: false; error: JsonRpcErrorBody } | { ok: true; batch: boolean; entries: CheckedEntry[] };

export interface CheckOptions {
  /** Why batches are refused here (the negotiated revision removed them), or undefined when allowed. */
  batchesRefused?: string;
}

/** Revisions from 2025-06-18 on removed JSON-RPC batches; a version string compares by date. */
export const revisionHasBatches = (revision: string) => revision < '2025-06-18';

/** Checks one incoming text (a message or a batch). */
export function checkJsonRpc(text: string, options: CheckOptions = {}): Checked {
  const depth = nestingDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    return {
      ok: false,
      error: { code: INVALID_REQUEST, message: `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels` },
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: PARSE_ERROR, message: 'Parse error: not valid JSON' } };
  }
  if (!Array.isArray(parsed)) return { ok: true, batch: false, entries: [checkEntry(parsed)] };
  if (options.batchesRefused !== undefined) {
    return { ok: false, error: { code: INVALID_REQUEST, message: `Invalid Request: ${options.batchesRefused}` } };
  }
  if (parsed.length === 0)
    return { ok: false, error: { code: INVALID_REQUEST, message: 'Invalid Request: empty batch' } };
  if (parsed.length > MAX_BATCH_ENTRIES) {
    return {
      ok: false,
      error: {
        code: INVALID_REQUEST,
        message: `Invalid Request: a batch of ${parsed.length} messages is more than the ${MAX_BATCH_ENTRIES} allowed; send fewer`,
      },
    };
  }
  return { ok: true, batch: true, entries: refuseCollisions(parsed.map(checkEntry)) };
}

/** Request ids compare as the SDK's maps compare them: 1 and "1" are different requests. */
const idKey = (id: string | number) => `${typeof id}:${id}`;

/**
 * Batch rules that span entries. Two requests sharing an id cannot both be answered (transports and the
 * server route answers by id, so one answer was lost), so every entry carrying that id is refused.
 * A notifications/cancelled for a request of its own batch is refused rather than dropped: the
 * request is then answered like any other, so the batch's response always ends (a cancelled request
 * gets no answer, and the HTTP transport held the POST open waiting for it), and the client is told
 * its cancellation did nothing instead of silently losing it. Cancelling a request of an earlier
 * message is unaffected.
 */
function refuseCollisions(entries: CheckedEntry[]): CheckedEntry[] {
  const seen = new Set<string>();
  const duplicated = new Set<string>();
  for (const entry of entries) {
    if (!entry.ok || !isJSONRPCRequest(entry.message)) continue;
    const key = idKey(entry.message.id);
    if (seen.has(key)) duplicated.add(key);
    seen.add(key);
  }
  return entries.map((entry) => {
    if (!entry.ok) return entry;
    const { message } = entry;
    if (isJSONRPCRequest(message) && duplicated.has(idKey(message.id))) {
      return invalid(
        message.id,
        INVALID_REQUEST,
        `Invalid Request: request id ${JSON.stringify(message.id)} is used by more than one request of this batch; give each request its own id`,
      );
    }
    if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
      const target = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if (isRequestId(target) && seen.has(idKey(target))) {
        return invalid(
          null,
          INVALID_REQUEST,
          `Invalid Request: notifications/cancelled for request ${JSON.stringify(target)} of the same batch is refused; the request is answered. Cancel it in a later message`,
        );
      }
    }
    return entry;
  });
}

/** Whether the message is answered by whoever receives it: a request, or anything refused. */
export const isAnswered = (entry: CheckedEntry) => !entry.ok || isJSONRPCRequest(entry.message);

/**
 * The answers a checked text is owed at most (what rate limits charge): one for a refused text, else one
 * per entry that is a request or is refused. Notifications and responses are owed none.
 */
export function answersOwed(checked: Checked): number {
  return checked.ok ? checked.entries.filter(isAnswered).length : 1;
}

/** The JSON-RPC error answer of a refused entry or text. */
export const errorAnswer = (id: AnswerId, error: JsonRpcErrorBody) => ({ jsonrpc: '2.0' as const, id, error });

/**
 * Deepest nesting of `[`/`{` in a JSON text, counted without parsing (strings skipped), so a hostile
 * tree is refused before any recursive code, JSON.parse included, walks it. Linear in the text.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip to the closing quote; a backslash escapes the next character.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

const REQUEST_MEMBERS = new Set(['jsonrpc', 'id', 'method', 'params']);
const RESPONSE_MEMBERS = new Set(['jsonrpc', 'id', 'result', 'error']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** MCP's RequestId: a string or an integer (JSON-RPC allows null and fractions; MCP does not). */
const isRequestId = (id: unknown): id is string | number =>
  typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id));
const answerIdOf = (id: unknown): AnswerId =>
  typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;

function invalid(id: AnswerId, code: number, message: string): CheckedEntry {
  return { ok: false, id, error: { code, message } };
}

/** One message of a text: the JSON-RPC 2.0 envelope as MCP restricts it, then the SDK's own schema. */
function checkEntry(value: unknown): CheckedEntry {
  if (!isObject(value)) return invalid(null, INVALID_REQUEST, 'Invalid Request: a JSON-RPC message is an object');
  const id = answerIdOf(value.id);
  if (value.jsonrpc !== '2.0') return invalid(id, INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"');
  if ('id' in value && !isRequestId(value.id)) {
    return invalid(id, INVALID_REQUEST, 'Invalid Request: "id" must be a string or an integer');
  }
  if ('method' in value) {
    if (typeof value.method !== 'string')
      return invalid(id, INVALID_REQUEST, 'Invalid Request: "method" must be a string');
    const extra = Object.keys(value).find((key) => !REQUEST_MEMBERS.has(key));
    if (extra !== undefined)
      return invalid(id, INVALID_REQUEST, `Invalid Request: unexpected member ${JSON.stringify(extra)}`);
    if ('params' in value && !isObject(value.params)) {
      return invalid(id, INVALID_PARAMS, 'Invalid params: "params" must be an object (MCP uses named parameters)');
    }
    const params = value.params as Record<string, unknown> | undefined;
    if (params && '_meta' in params && !isObject(params._meta)) {
      return invalid(id, INVALID_PARAMS, 'Invalid params: "params._meta" must be an object');
    }
    const message = value as unknown as JSONRPCMessage;
    if ('id' in value ? isJSONRPCRequest(message) : isJSONRPCNotification(message)) return { ok: true, message };
    // The envelope is right; what the SDK's schema refuses is in params._meta (progressToken, say).
    return invalid(
      id,
      INVALID_PARAMS,
      'Invalid params: "params._meta" does not fit MCP (progressToken is a string or an integer)',
    );
  }
  if ('result' in value || 'error' in value) {
    const extra = Object.keys(value).find((key) => !RESPONSE_MEMBERS.has(key));
    if (extra !== undefined)
      return invalid(null, INVALID_REQUEST, `Invalid Request: unexpected member ${JSON.stringify(extra)}`);
    const message = value as unknown as JSONRPCMessage;
    if ('id' in value && (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)))
      return { ok: true, message };
    // A response nobody can match to a request is answered as JSON-RPC answers any invalid message.
    return invalid(
      null,
      INVALID_REQUEST,
      'Invalid Request: a response has an "id" and exactly one of "result" (an object) and "error" ({code, message, data?})',
    );
  }
  return invalid(id, INVALID_REQUEST, 'Invalid Request: a message has "method", or "result" or "error"');
}
