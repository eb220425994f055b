import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyRefusedError, readBody, sendJsonRpcError } from './http-body.js';
import { type Checked, checkJsonRpc, errorAnswer, isAnswered, revisionHasBatches } from './jsonrpc-check.js';

/**
 * The JSON-RPC body of a POST to /mcp, read within maxBodyBytes and passed through the same gate as
 * WebSocket frames before the SDK (or anything recursive) sees it. Undefined when the request was
 * refused and answered here: unreadable or too large, not JSON-RPC, a batch its revision does not
 * allow, or an entry the gate refused.
 */
export async function readPostBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
): Promise<{ body: unknown } | undefined> {
  let text: string;
  try {
    text = await readBody(req, maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyRefusedError) {
      sendJsonRpcError(res, error.httpStatus, error.code, error.message, error.headers);
    } else {
      sendJsonRpcError(res, 400, -32700, 'Parse error: the body could not be read');
    }
    return undefined;
  }
  const revision = req.headers['mcp-protocol-version'];
  const checked = checkJsonRpc(text, {
    batchesRefused:
      typeof revision === 'string' && !revisionHasBatches(revision)
        ? `protocol ${revision} does not allow JSON-RPC batches`
        : undefined,
  });
  if (!checked.ok) {
    sendJsonRpcError(res, 400, checked.error.code, checked.error.message);
    return undefined;
  }
  const refused = refusedBody(checked);
  if (refused) {
    res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(refused));
    return undefined;
  }
  const messages = checked.entries.flatMap((entry) => (entry.ok ? [entry.message] : []));
  return { body: checked.batch ? messages : messages[0] };
}

/**
 * The 400 answer of a body with a refused entry, or undefined when every entry passed. A batch is served
 * whole or not at all (the SDK answers a body as one), so its valid requests are refused too, each once.
 */
function refusedBody(checked: Checked & { ok: true }): unknown {
  if (checked.entries.every((entry) => entry.ok)) return undefined;
  const answers = checked.entries.filter(isAnswered).map((entry) =>
    entry.ok
      ? errorAnswer((entry.message as { id: string | number }).id, {
          code: -32600,
          message: 'Invalid Request: not served, another message of this batch is invalid',
        })
      : errorAnswer(entry.id, entry.error),
  );
  return checked.batch ? answers : answers[0];
}
