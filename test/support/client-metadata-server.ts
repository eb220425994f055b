/**
 * A client's own HTTPS server for its Client ID Metadata Document, on 127.0.0.1 with a self-signed
 * certificate made at test time by the `openssl` CLI (node:crypto cannot write X.509). The auth
 * service trusts it through AUTH_CIMD_EXTRA_CA_FILE, in local mode only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export class ClientMetadataServer {
  /** Documents by path; a function gets the document's own URL. */
  private readonly documents = new Map<string, (url: string) => string>();
  /** How many times each path was asked for (so a test can tell "fetched, then refused" from "never fetched"). */
  readonly requests = new Map<string, number>();
  private constructor(
    private readonly server: Server,
    private readonly scratch: string,
    /** The certificate (PEM) to trust, as a file. */
    readonly caFile: string,
    readonly origin: string,
  ) {}

  static async start(): Promise<ClientMetadataServer> {
    const scratch = mkdtempSync(path.join(tmpdir(), 'cimd-'));
    const caFile = path.join(scratch, 'cert.pem');
    const keyFile = path.join(scratch, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        caFile,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    let self: ClientMetadataServer | undefined;
    const server = createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) }, (req, res) => {
      const url = new URL(req.url ?? '/', self?.origin);
      self?.requests.set(url.pathname, (self.requests.get(url.pathname) ?? 0) + 1);
      const document = self?.documents.get(url.pathname);
      if (!document) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(document(url.href));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new ClientMetadataServer(
      server,
      scratch,
      caFile,
      `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    return self;
  }

  /** Serves `document(url)` at `pathname`; returns its URL (the client_id). */
  serve(pathname: string, document: (url: string) => string): string {
    this.documents.set(pathname, document);
    return `${this.origin}${pathname}`;
  }

  close(): Promise<void> {
    rmSync(this.scratch, { recursive: true, force: true });
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
