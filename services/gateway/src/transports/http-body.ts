import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJSONRPCRequest } from '@modelcontextprotocol/server';
import { errorAnswer, INVALID_REQUEST, PARSE_ERROR } from './jsonrpc-check.js';

/** A body refused before it is parsed: the HTTP status and the JSON-RPC error that answer it. */
export class BodyRefusedError extends Error {
  override readonly name: string = 'BodyRefusedError';
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The body was larger than allowed; answered with 413. */
export class BodyTooLargeError extends BodyRefusedError {
  override readonly name = 'BodyTooLargeError';
  constructor(message: string) {
    super(413, INVALID_REQUEST, message);
  }
}

/** Strict UTF-8: a malformed sequence throws instead of becoming U+FFFD; a BOM is kept (and is not JSON). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Content codings of a Content-Encoding header other than identity. The gateway decodes none: MCP
 * clients send small uncompressed JSON, and inflating a body would let a few kilobytes expand past the
 * body limit (a decompression bomb) before anything could count them. RFC 9110 §15.5.16 answers an
 * unsupported coding with 415 and Accept-Encoding naming what is accepted.
 */
function encodingRefused(req: IncomingMessage): BodyRefusedError | undefined {
  const header = req.headers['content-encoding'];
  if (header === undefined) return undefined;
  const codings = header
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  if (codings.length === 0) return undefined;
  return new BodyRefusedError(
    415,
    INVALID_REQUEST,
    `Unsupported Media Type: Content-Encoding ${JSON.stringify(header)} is not accepted; send the body unencoded (identity)`,
    { 'accept-encoding': 'identity' },
  );
}

/**
 * Reads a request body up to limit bytes as UTF-8 text; stops reading (and rejects) as soon as the limit
 * is passed. A content coding, or bytes that are not UTF-8, are refused rather than read as something else.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const refused = encodingRefused(req);
  if (refused) throw refused;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyTooLargeError(`request body of ${declared} bytes exceeds ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(`request body exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  try {
    return utf8.decode(Buffer.concat(chunks));
  } catch {
    throw new BodyRefusedError(400, PARSE_ERROR, 'Parse error: the body is not valid UTF-8 (JSON-RPC text is UTF-8)');
  }
}

/** A JSON-RPC error outside any request (id null), with an HTTP status. */
export function sendJsonRpcError(
  res: ServerResponse,
  httpStatus: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendAnswer(res, httpStatus, errorAnswer(null, { code, message }), headers);
}

/**
 * A JSON-RPC error for a body that parsed, with an HTTP status: each request it holds is answered by its
 * own id (a batch with an array), so a client can match the refusal to what it sent; a body of
 * notifications only gets one answer with id null.
 */
export function sendJsonRpcErrorTo(
  res: ServerResponse,
  body: unknown,
  httpStatus: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const answers = (Array.isArray(body) ? body : [body])
    .filter(isJSONRPCRequest)
    .map((request) => errorAnswer(request.id, { code, message }));
  const answer =
    answers.length === 0 ? errorAnswer(null, { code, message }) : Array.isArray(body) ? answers : answers[0];
  sendAnswer(res, httpStatus, answer, headers);
}

function sendAnswer(res: ServerResponse, httpStatus: number, answer: unknown, headers: Record<string, string>): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(httpStatus, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(answer));
}
