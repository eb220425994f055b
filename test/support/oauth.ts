/**
 * OAuth sign-in for end-to-end tests: an in-memory OAuthClientProvider for the SDK clients, a
 * loopback callback server that catches the authorization code, Debian's Chromium (as the docs test
 * runs it) to sign up, confirm the address by the mailed link, sign in and consent on the real pages.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Browser, Page } from 'playwright-core';
import type { LocalSystem } from '../../scripts/local-system.js';
import { eventually } from './eventually.js';

export { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

/** Catches redirects to http://127.0.0.1:<port>/callback and hands out their codes in order. */
export class CallbackServer {
  private readonly waiting: ((query: URLSearchParams) => void)[] = [];
  private readonly arrived: URLSearchParams[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<CallbackServer> {
    let self: CallbackServer | undefined;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      // Browsers also ask for /favicon.ico: only the callback counts.
      if (url.pathname !== '/callback') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end('signed in; you may close this window');
      self?.deliver(url.searchParams);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new CallbackServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`);
    return self;
  }

  /** The next redirect's query (code, state, iss, or error). */
  next(): Promise<URLSearchParams> {
    const ready = this.arrived.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private deliver(query: URLSearchParams): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(query);
    else this.arrived.push(query);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** What an MCP host keeps between runs, in memory; the authorization URL is handed to the test. */
export class MemoryOAuthProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  /** Where the authorization began (the v2 client checks the callback against it). */
  discovery?: OAuthDiscoveryState;
  readonly authorizationUrls: URL[] = [];

  constructor(
    private readonly redirect: string,
    private readonly name: string,
    readonly clientMetadataUrl?: string,
  ) {}

  get redirectUrl(): string {
    return this.redirect;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.name,
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url);
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
}

interface CaughtMail {
  to: string[];
  subject: string;
  text: string;
}

/** The link in the newest mail to `to` whose subject matches. */
export async function mailedLink(system: LocalSystem, to: string, subject: RegExp): Promise<string> {
  const api = system.mailUrl.replace(/\/mail$/, '/sandbox/mail');
  return eventually(`a mail "${subject}" to ${to}`, async () => {
    const { mails } = (await (await fetch(api)).json()) as { mails: CaughtMail[] };
    const mail = mails.filter((m) => m.to.includes(to) && subject.test(m.subject)).pop();
    return mail ? /https?:\/\/\S+/.exec(mail.text)?.[0] : undefined;
  });
}

/**
 * Follows an authorization URL in the browser as a person would: creates the account when asked
 * (confirming it by the mailed link), signs in, and allows on the consent page.
 */
export async function signInAndConsent(
  browser: Browser,
  system: LocalSystem,
  authorizationUrl: URL,
  account: { email: string; password: string; signUp: boolean },
): Promise<{ consentScopes: string[] }> {
  const page = await browser.newPage();
  try {
    await page.goto(authorizationUrl.href);
    await page.waitForSelector('form[action$="/login"]');
    if (account.signUp) {
      const interaction = page.url();
      await page.click('a[href^="/signup"]');
      await page.fill('#email', account.email);
      await page.fill('#password', account.password);
      await page.click('button[type=submit]');
      await page.waitForSelector('text=Check your mail');
      await page.goto(await mailedLink(system, account.email, /Confirm your callgate account/));
      await page.waitForSelector('text=Your address is confirmed');
      await page.goto(interaction);
    }
    await signIn(page, account);
    await page.waitForSelector('ul.scopes');
    const consentScopes = await page
      .locator('ul.scopes li')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-scope') ?? ''));
    await page.click('button[value=allow]');
    await page.waitForURL(/\/callback\?/);
    return { consentScopes };
  } finally {
    await page.close();
  }
}

async function signIn(page: Page, account: { email: string; password: string }): Promise<void> {
  await page.fill('#email', account.email);
  await page.fill('#password', account.password);
  await page.click('button[type=submit]');
}
