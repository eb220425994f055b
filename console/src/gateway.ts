/**
 * The console's one way to the product: the gateway's public MCP endpoint, through the official SDK
 * client (Streamable HTTP, a session, so resource subscriptions arrive on its event stream). No other
 * API exists for the console; what an agent can do, a person can do here, with the same checks.
 */
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import type { ConsoleConfig } from './config';
import type { ConsoleAuth } from './session';
import { ToolError, toToolError } from './tool-error';

type Listener = () => void;

/** Thrown while the browser leaves for the sign-in page: the UI shows "Signing you in…", not an error. */
/** What a person reads when the authorization server sends them back with an error (RFC 6749 §4.1.2.1). */
const SIGN_IN_ERRORS: Record<string, string> = {
  access_denied: 'Sign-in was cancelled, or access was not allowed.',
  invalid_scope: 'The console asked for a permission the server does not offer.',
  login_required: 'Please sign in again.',
  consent_required: 'Please allow the console access again.',
  server_error: 'The sign-in server had a problem. Try again in a moment.',
  temporarily_unavailable: 'The sign-in server is busy. Try again in a moment.',
};

export class SigningIn extends Error {
  constructor() {
    super('Signing you in…');
    this.name = 'SigningIn';
  }
}

export class Gateway {
  private client?: Promise<Client>;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly config: ConsoleConfig,
    readonly auth: ConsoleAuth,
  ) {}

  private transport(): StreamableHTTPClientTransport {
    return new StreamableHTTPClientTransport(new URL(this.config.mcpUrl), { authProvider: this.auth });
  }

  /** Connects once; a dropped session reconnects on the next use, resubscribing what is watched. */
  private connect(): Promise<Client> {
    if (!this.client) {
      const attempt = (async () => {
        const client = new Client({ name: 'callgate-console', version: '0.1.0' }, { capabilities: {} });
        client.setNotificationHandler('notifications/resources/updated', (n) => {
          for (const listener of this.listeners.get(n.params.uri) ?? []) listener();
        });
        client.onclose = () => {
          if (this.client === attempt) this.client = undefined;
        };
        try {
          await client.connect(this.transport());
        } catch (error) {
          throw UnauthorizedError.isInstance(error) ? new SigningIn() : error;
        }
        for (const uri of this.listeners.keys()) await client.subscribeResource({ uri }).catch(() => undefined);
        return client;
      })();
      attempt.catch(() => {
        if (this.client === attempt) this.client = undefined;
      });
      this.client = attempt;
    }
    return this.client;
  }

  /** Ends the sign-in: the code (and issuer, RFC 9207) from the callback's query. */
  async finishSignIn(params: URLSearchParams): Promise<void> {
    const error = params.get('error');
    // Our own words for the RFC 6749 codes, never the URL's error_description: anyone can send a person a
    // /callback link, and the page must not show whatever text that link carries.
    if (error) throw new Error(SIGN_IN_ERRORS[error] ?? 'Sign-in did not complete. Try again.');
    await this.transport().finishAuth(params);
  }

  /** A tool's structuredContent, or a ToolError with the gateway's message (and the fields it names). */
  async call<T>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const client = await this.connect();
    let result: Awaited<ReturnType<Client['callTool']>>;
    try {
      result = await client.callTool({ name, arguments: args });
    } catch (error) {
      throw this.failure(error);
    }
    if (result.isError) {
      const text = (result.content as { type: string; text?: string }[])
        .map((c) => c.text ?? '')
        .join('\n')
        .trim();
      throw toToolError(new Error(text || `${name} failed`));
    }
    return result.structuredContent as T;
  }

  /** A JSON resource (callgate://…). */
  async read<T>(uri: string): Promise<T> {
    const client = await this.connect();
    try {
      const { contents } = await client.readResource({ uri });
      const first = contents[0] as { text?: string } | undefined;
      return JSON.parse(first?.text ?? 'null') as T;
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** Calls `listener` whenever the gateway says `uri` changed; the returned function stops it. */
  watch(uri: string, listener: Listener): () => void {
    let set = this.listeners.get(uri);
    const first = !set;
    if (!set) {
      set = new Set();
      this.listeners.set(uri, set);
    }
    set.add(listener);
    if (first) {
      this.connect()
        .then((client) => client.subscribeResource({ uri }))
        .catch(() => undefined);
    }
    return () => {
      set.delete(listener);
      if (set.size > 0 || this.listeners.get(uri) !== set) return;
      this.listeners.delete(uri);
      this.client?.then((client) => client.unsubscribeResource({ uri })).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await (await client?.catch(() => undefined))?.close();
  }

  private failure(error: unknown): Error {
    if (UnauthorizedError.isInstance(error)) return new SigningIn();
    return error instanceof ToolError ? error : toToolError(error);
  }
}
