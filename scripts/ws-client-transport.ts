/**
 * A client-side MCP transport over WebSocket for the official SDK Client, using `ws` so it can send
 * an Authorization header (the SDK's own WebSocket client transport relies on the browser API,
 * which cannot, and which Node 20 lacks).
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import WebSocket from 'ws';

export class WsClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private ws: WebSocket | undefined;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, 'mcp', { headers: this.headers });
      this.ws = ws;
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
      ws.once('error', reject);
      ws.on('message', (data) => this.onmessage?.(JSON.parse(String(data)) as JSONRPCMessage));
      ws.on('close', () => this.onclose?.());
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.ws?.send(JSON.stringify(message));
  }

  async close(): Promise<void> {
    this.ws?.close();
  }
}
