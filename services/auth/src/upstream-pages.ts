import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Accounts } from './accounts.js';
import type { AttemptLimits } from './attempt-limits.js';
import { type Csrf, readCookie } from './csrf.js';
import { sendPage } from './forms.js';
import { type Html, html, page } from './html.js';
import type { KnownDevices } from './known-devices.js';
import type { UpstreamIdentities } from './upstream-identities.js';
import type { UpstreamFinish, UpstreamSignIn } from './upstream-sign-in.js';

export interface UpstreamPagesDeps {
  upstream: UpstreamSignIn;
  upstreamIdentities: UpstreamIdentities;
  limits: AttemptLimits;
  accounts: Accounts;
  devices: KnownDevices;
  csrf: Csrf;
  clientAddress: (req: IncomingMessage) => string;
}

/** The path every provider answers at: /interaction/callback/<provider id> (the redirect URI to register). */
export const UPSTREAM_CALLBACK = /^\/interaction\/callback\/([A-Za-z0-9_-]{1,100})$/;
/**
 * The state of the browser's pending upstream sign-in. SameSite=Lax: the provider sends the person back by
 * a top-level GET from its own site, which carries Lax cookies but not Strict ones. Only for the callback path.
 */
const COOKIE = 'cg_upstream';
const COOKIE_PATH = '/interaction/callback/';
/** A little longer than a stored request lives (upstream-sign-in.ts). */
const COOKIE_MAX_AGE = 660;

/**
 * "Continue with <name>" for each configured provider, under the password form: one form POST carrying
 * the interaction's CSRF token (never a GET link, so no other site can start a sign-in in the person's
 * browser), the provider as the button's value.
 */
export function upstreamButtons(
  deps: Pick<UpstreamPagesDeps, 'upstream' | 'csrf'>,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
): Html | string {
  const providers = deps.upstream.providers;
  if (providers.length === 0) return '';
  return html`<form method="post" action="/interaction/${uid}/upstream" class="upstream">
<input type="hidden" name="csrf" value="${deps.csrf.token(req, res, `upstream:${uid}`)}">
${providers.map((p) => html`<button type="submit" name="provider" value="${p.id}">Continue with ${p.name}</button> `)}
</form>`;
}

/** POST /interaction/<uid>/upstream (CSRF already checked, the sign-in is at its login step): off to the provider. */
export async function startUpstreamSignIn(
  deps: UpstreamPagesDeps,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  providerId: string | undefined,
): Promise<void> {
  const provider = deps.upstream.provider(providerId ?? '');
  if (!provider) {
    return sendPage(
      res,
      404,
      failurePage(uid, 'Unknown sign-in provider', 'This server offers no such way to sign in.'),
    );
  }
  // Each start stores a request: it counts against the address's hourly sign-in attempts.
  if (!(await deps.limits.take('address', deps.clientAddress(req)))) {
    return sendPage(
      res,
      429,
      failurePage(uid, 'Too many attempts', 'Too many attempts from your address; try again in an hour.'),
    );
  }
  const started = await deps.upstream.start(provider.id, uid);
  if ('problem' in started) {
    return sendPage(
      res,
      503,
      failurePage(
        uid,
        'Sign-in unavailable',
        `${provider.name} cannot be reached right now. Try again in a moment, or sign in with a password.`,
      ),
    );
  }
  const secure = deps.upstream.secureCookies ? '; Secure' : '';
  res.appendHeader(
    'set-cookie',
    `${COOKIE}=${started.state}; Path=${COOKIE_PATH}; Max-Age=${COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax${secure}`,
  );
  res.writeHead(303, { location: started.url.href, 'cache-control': 'no-store' }).end();
}

const FAILURES: Record<Exclude<UpstreamFinish, { claims: unknown }>['problem'], [number, string, string]> = {
  'unknown-provider': [404, 'Unknown sign-in provider', 'This server offers no such way to sign in.'],
  state: [
    400,
    'Sign-in expired',
    'This answer does not match a sign-in started in this browser, or it was used already.',
  ],
  denied: [403, 'Sign-in cancelled', 'You did not allow the sign-in at NAME.'],
  'upstream-error': [502, 'Sign-in failed', 'NAME refused the sign-in.'],
  'bad-answer': [502, 'Sign-in failed', 'The answer from NAME could not be verified, so it was not used.'],
  unavailable: [503, 'Sign-in unavailable', 'NAME cannot be reached right now. Try again in a moment.'],
};
const ACCOUNT_FAILURES = {
  subject: 502,
  'no-email': 403,
  'unverified-email': 403,
  'unconfirmed-account': 409,
} as const;

/**
 * GET /interaction/callback/<provider>: the provider's answer. Verified (upstream-sign-in.ts), turned into
 * an account (upstream-identities.ts), and the sign-in continues to consent exactly as after a password.
 * Every failure is a page that says what happened and links back to the sign-in when it is still open.
 */
export async function serveUpstreamCallback(
  deps: UpstreamPagesDeps & { provider: Provider },
  req: IncomingMessage,
  res: ServerResponse,
  providerId: string,
): Promise<void> {
  if (req.method !== 'GET') return sendPage(res, 405, page('Not allowed', html`<p>Not allowed.</p>`));
  const query = URL.parse(req.url ?? '', 'http://auth.invalid')?.searchParams ?? new URLSearchParams();
  const browserState = readCookie(req, COOKIE);
  const outcome = await deps.upstream.finish(providerId, query, browserState);
  // The browser's answer arrived (one per start, whatever it was): its state is spent. A request with
  // some other state (anyone can link here) leaves the browser's pending sign-in alone.
  if (browserState && query.get('state') === browserState) {
    res.appendHeader('set-cookie', `${COOKIE}=; Path=${COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Lax`);
  }
  const provider = deps.upstream.provider(providerId);
  const name = provider?.name ?? 'the provider';
  if ('problem' in outcome) {
    const [status, title, text] = FAILURES[outcome.problem];
    return sendPage(res, status, failurePage(outcome.interaction, title, text.replace('NAME', name)));
  }
  const account = await deps.upstreamIdentities.accountFor(provider as NonNullable<typeof provider>, outcome.claims);
  if ('problem' in account) {
    return sendPage(
      res,
      ACCOUNT_FAILURES[account.problem],
      failurePage(outcome.interaction, 'Could not sign you in', account.message),
    );
  }
  // The sign-in's login step, finished as interactionFinished would: the callback's path is fixed (the
  // redirect URI registered at the provider), so the interaction's own cookie (path /interaction/<uid>)
  // is not sent here. The stored request tied this answer to the sign-in, and the resume at /auth/<uid>
  // still takes only the browser holding that sign-in's resume cookie.
  const interaction = await deps.provider.Interaction.find(outcome.interaction);
  if (interaction?.prompt.name !== 'login' || interaction.result) {
    return sendPage(
      res,
      400,
      page('Sign-in expired', html`<p>This sign-in is no longer open. Go back to your app and start again.</p>`),
    );
  }
  interaction.result = { login: { accountId: account.accountId } };
  // Its remaining lifetime, in oidc-provider's own time (it stamps `exp` from the system clock, not ours).
  await interaction.save(Math.max(1, (interaction.exp ?? 0) - Math.floor(Date.now() / 1000)));
  const email = await deps.accounts.email(account.accountId);
  if (email) deps.devices.remember(res, email);
  res.writeHead(303, { location: interaction.returnTo, 'cache-control': 'no-store' }).end();
}

function failurePage(interaction: string | undefined, title: string, text: string): string {
  return page(
    title,
    html`<p class="error" role="alert">${text}</p>
<p class="note">${interaction ? html`<a href="/interaction/${interaction}">Back to sign-in</a>` : 'Go back to your app and start again.'}</p>`,
  );
}
