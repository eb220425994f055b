import type WebSocket from 'ws';

/**
 * Resolves when the WebSocket opens; rejects, saying why, when the upgrade is refused (its HTTP status and
 * body) or the connection fails. A bare `once('open')` waits forever on a refusal, so the test hung until
 * the runner's per-file timeout instead of failing with the answer it got.
 */
export function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => reject(new Error(`the upgrade was refused: HTTP ${response.statusCode} ${body}`)));
    });
  });
}
