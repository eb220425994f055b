import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Accounts } from './accounts.js';
import type { Csrf } from './csrf.js';
import { readForm, sendPage } from './forms.js';
import { html, page } from './html.js';
import type { KnownDevices } from './known-devices.js';
import { signInFromForm } from './sign-in-form.js';

export interface AccountPagesDeps {
  accounts: Accounts;
  csrf: Csrf;
  clientAddress: (req: IncomingMessage) => string;
  devices: KnownDevices;
}

/** Where a page may send the person back to: only an interaction of this server (never an open redirect). */
function safeReturn(value: string | null | undefined): string | undefined {
  return value && /^\/interaction\/[A-Za-z0-9_-]{1,100}$/.test(value) ? value : undefined;
}

const LINK_PROBLEMS = {
  unknown: 'This link is not valid. Ask for a new one.',
  expired: 'This link has expired. Ask for a new one.',
  used: 'This link was already used. Ask for a new one if you need to.',
} as const;

/**
 * The account pages: sign up, confirm the address, reset the password, sign out everywhere. Each form
 * carries a CSRF token; each answer is the same whether or not an address has an account.
 */
export async function serveAccountPage(
  deps: AccountPagesDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<boolean> {
  const path = url.pathname;
  if (path === '/signup') {
    const back = safeReturn(url.searchParams.get('return'));
    if (req.method === 'GET') return done(sendPage(res, 200, signupPage(deps, req, res, back)));
    const form = await postedForm(deps, req, res, 'signup');
    if (!form) return true;
    const outcome = await deps.accounts.signUp(form.email ?? '', form.password ?? '', deps.clientAddress(req));
    if ('problem' in outcome) {
      const status = outcome.problem === 'limited' ? 429 : 400;
      return done(sendPage(res, status, signupPage(deps, req, res, back, outcome.message, form.email)));
    }
    return done(
      sendPage(
        res,
        200,
        page(
          'Check your mail',
          html`<p>We sent a link to ${form.email ?? ''}. Open it to confirm your address, then
${back ? html`<a href="${back}">sign in</a>` : 'sign in from your app'}.</p>`,
        ),
      ),
    );
  }
  if (path === '/verify-email' && req.method === 'GET') {
    const outcome = await deps.accounts.verifyEmail(url.searchParams.get('token') ?? '');
    if ('problem' in outcome)
      return done(
        sendPage(res, 400, page('Link not valid', html`<p class="error">${LINK_PROBLEMS[outcome.problem]}</p>`)),
      );
    return done(
      sendPage(
        res,
        200,
        page('Address confirmed', html`<p>Your address is confirmed. Go back to your app and sign in.</p>`),
      ),
    );
  }
  if (path === '/reset-password') {
    const token = url.searchParams.get('token');
    if (req.method === 'GET')
      return done(
        sendPage(res, 200, token ? newPasswordPage(deps, req, res, token) : resetRequestPage(deps, req, res)),
      );
    const form = await postedForm(deps, req, res, 'reset');
    if (!form) return true;
    if (!token) {
      const { limited } = await deps.accounts.requestReset(form.email ?? '', deps.clientAddress(req));
      if (limited)
        return done(
          sendPage(
            res,
            429,
            page(
              'Too many attempts',
              html`<p class="error">Too many attempts from your address; try again in an hour.</p>`,
            ),
          ),
        );
      return done(
        sendPage(
          res,
          200,
          page(
            'Check your mail',
            html`<p>If ${form.email ?? ''} has an account, a link to reset its password is on its way.</p>`,
          ),
        ),
      );
    }
    const outcome = await deps.accounts.resetPassword(token, form.password ?? '');
    if ('problem' in outcome) {
      const message = outcome.problem === 'password' ? `The ${outcome.message}.` : LINK_PROBLEMS[outcome.problem];
      return done(sendPage(res, 400, page('Password not changed', html`<p class="error">${message}</p>`)));
    }
    return done(
      sendPage(
        res,
        200,
        page(
          'Password changed',
          html`<p>Your password is changed and every session and app was signed out. Sign in again from your app.</p>`,
        ),
      ),
    );
  }
  if (path === '/sign-out-everywhere') {
    if (req.method === 'GET') return done(sendPage(res, 200, signOutPage(deps, req, res)));
    const form = await postedForm(deps, req, res, 'sign-out');
    if (!form) return true;
    const outcome = await signInFromForm(deps, req, res, form);
    if ('problem' in outcome) return done(sendPage(res, 401, signOutPage(deps, req, res, outcome.message)));
    await deps.accounts.signOutEverywhere(outcome.accountId);
    return done(
      sendPage(
        res,
        200,
        page(
          'Signed out everywhere',
          html`<p>Every app and session you signed in to has lost access. Sign in again where you want it back.</p>`,
        ),
      ),
    );
  }
  return false;
}

/** Answers that a page was served, after the call that served it. */
const done = (_served: unknown) => true;

/** The posted form when its CSRF token holds; otherwise answers 403 and returns undefined. */
async function postedForm(
  deps: AccountPagesDeps,
  req: IncomingMessage,
  res: ServerResponse,
  purpose: string,
): Promise<Record<string, string> | undefined> {
  if (req.method !== 'POST') {
    sendPage(res, 405, page('Not allowed', html`<p>Use the form.</p>`));
    return undefined;
  }
  const form = await readForm(req);
  if (!deps.csrf.check(req, purpose, form.csrf)) {
    sendPage(
      res,
      403,
      page(
        'Form expired',
        html`<p class="error">This form is no longer valid (missing or wrong CSRF token). Reload the page and try again.</p>`,
      ),
    );
    return undefined;
  }
  return form;
}

function signupPage(
  deps: AccountPagesDeps,
  req: IncomingMessage,
  res: ServerResponse,
  back: string | undefined,
  error?: string,
  email?: string,
): string {
  return page(
    'Create your callgate account',
    html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/signup${back ? `?return=${encodeURIComponent(back)}` : ''}">
<input type="hidden" name="csrf" value="${deps.csrf.token(req, res, 'signup')}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${email ?? ''}">
<label for="password">Password (at least 12 characters)</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="12" required>
<button type="submit">Create account</button>
</form>`,
  );
}

function resetRequestPage(deps: AccountPagesDeps, req: IncomingMessage, res: ServerResponse): string {
  return page(
    'Reset your password',
    html`<form method="post" action="/reset-password">
<input type="hidden" name="csrf" value="${deps.csrf.token(req, res, 'reset')}">
<label for="email">Email</label><input id="email" name="email" type="email" required>
<button type="submit">Send me a link</button>
</form>`,
  );
}

function newPasswordPage(deps: AccountPagesDeps, req: IncomingMessage, res: ServerResponse, token: string): string {
  return page(
    'Choose a new password',
    html`<form method="post" action="/reset-password?token=${encodeURIComponent(token)}">
<input type="hidden" name="csrf" value="${deps.csrf.token(req, res, 'reset')}">
<label for="password">New password (at least 12 characters)</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="12" required>
<button type="submit">Change password</button>
</form>`,
  );
}

function signOutPage(deps: AccountPagesDeps, req: IncomingMessage, res: ServerResponse, error?: string): string {
  return page(
    'Sign out everywhere',
    html`<p>Every app and session signed in to your account loses access (within a few seconds at the gateway).</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/sign-out-everywhere">
<input type="hidden" name="csrf" value="${deps.csrf.token(req, res, 'sign-out')}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign out everywhere</button>
</form>
<p class="note"><a href="/personal-tokens">Personal access tokens</a> · <a href="/delete-account">Delete your account</a></p>`,
  );
}
