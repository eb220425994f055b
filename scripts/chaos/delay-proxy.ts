/**
 * Stands between the carrier (sandbox) and the call service's webhook port, so a fault run can delay
 * the carrier's status callbacks as a slow or backed-up Twilio would. The call service's
 * PUBLIC_BASE_URL points here, so the callbacks' signatures (made over this URL) still verify.
 * WebSocket upgrades (ConversationRelay) are piped through undelayed.
 */
import { createServer, request, type Server } from 'node:http';
import { connect } from 'node:net';

export interface DelayProxy {
  url: string;
  /** The call service's webhook port (known once the cluster has chosen its ports). */
  setTarget(port: number): void;
  /** Delay applied to each status callback from now on (0: none). */
  setDelay(ms: number): void;
  /** Callbacks forwarded so far, and how many were delayed. */
  counts(): { forwarded: number; delayed: number };
  close(): Promise<void>;
}

export async function startDelayProxy(): Promise<DelayProxy> {
  let targetPort = 0;
  let delayMs = 0;
  let forwarded = 0;
  let delayed = 0;
  const server: Server = createServer((req, res) => {
    const wait = req.url?.startsWith('/twilio/status') ? delayMs : 0;
    if (wait) delayed++;
    setTimeout(() => {
      const upstream = request(
        { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          forwarded++;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      // The call service down (a kill in the same run): the carrier sees a failed webhook, as with Twilio.
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    }, wait);
  });
  server.on('upgrade', (req, socket, head) => {
    const upstream = connect(targetPort, '127.0.0.1', () => {
      const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget: (target) => {
      targetPort = target;
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    counts: () => ({ forwarded, delayed }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
