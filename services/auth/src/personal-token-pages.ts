import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Accounts } from './accounts.js';
import type { Csrf } from './csrf.js';
import { readForm, sendPage } from './forms.js';
import { html, page } from './html.js';
import type { KnownDevices } from './known-devices.js';
import { MAX_PERSONAL_TOKEN_DAYS, PersonalTokenProblem, type PersonalTokens } from './personal-tokens.js';
import { RESOURCE_SCOPES, USER_SCOPES } from './scopes.js';
import { signInFromForm } from './sign-in-form.js';

export interface PersonalTokenPagesDeps {
  accounts: Accounts;
  personalTokens: PersonalTokens;
  csrf: Csrf;
  clientAddress: (req: IncomingMessage) => string;
  devices: KnownDevices;
}

/**
 * /personal-tokens: create a personal access token (shown once), list and revoke them. Each post
 * is confirmed with the account's password (no session to steal) and carries a CSRF token; the
 * password goes through the same limits and lockout as any sign-in.
 */
export async function servePersonalTokenPage(
  deps: PersonalTokenPagesDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method === 'GET') return sendPage(res, 200, tokensPage(deps, req, res));
  if (req.method !== 'POST') return sendPage(res, 405, page('Not allowed', html`<p>Use the form.</p>`));
  const form = await readForm(req);
  if (!deps.csrf.check(req, 'personal-tokens', form.csrf)) {
    return sendPage(
      res,
      403,
      tokensPage(deps, req, res, 'This form is no longer valid (missing or wrong CSRF token).'),
    );
  }
  const signedIn = await signInFromForm(deps, req, res, form);
  if ('problem' in signedIn) return sendPage(res, 401, tokensPage(deps, req, res, signedIn.message));
  if (form.revoke) {
    const revoked = await deps.personalTokens.revoke(signedIn.accountId, form.revoke);
    return sendPage(
      res,
      revoked ? 200 : 404,
      page(
        revoked ? 'Token revoked' : 'No such token',
        html`<p>${revoked ? 'The token no longer works (within seconds at the gateway).' : 'You have no live token with that id.'}</p>`,
      ),
    );
  }
  try {
    const { token, info } = await deps.personalTokens.create(signedIn.accountId, {
      name: form.name ?? '',
      scopes: USER_SCOPES.filter((scope) => form[`scope:${scope}`] === 'on'),
      days: Number(form.days ?? 30),
    });
    return sendPage(
      res,
      201,
      page(
        'Your new token',
        html`<p>Copy it now: it is shown only this once.</p>
<p><code id="token">${token}</code></p>
<p class="note">Token id ${info.tokenId}, scopes ${info.scopes.join(' ')}, expires ${info.expiresAt.toISOString()}.
Use it as <code>Authorization: Bearer …</code> at the MCP URL.</p>`,
      ),
    );
  } catch (error) {
    if (error instanceof PersonalTokenProblem) return sendPage(res, 400, tokensPage(deps, req, res, error.message));
    throw error;
  }
}

function tokensPage(deps: PersonalTokenPagesDeps, req: IncomingMessage, res: ServerResponse, error?: string): string {
  const csrf = deps.csrf.token(req, res, 'personal-tokens');
  return page(
    'Personal access tokens',
    html`<p>For agents and scripts that cannot open a browser. Confirm with your password.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/personal-tokens">
<input type="hidden" name="csrf" value="${csrf}">
<label for="email">Email</label><input id="email" name="email" type="email" required>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<label for="name">Token name</label><input id="name" name="name" type="text" maxlength="100" required>
<fieldset><legend>It may</legend>${USER_SCOPES.map((scope) => [scope, RESOURCE_SCOPES[scope]] as const).map(
      ([scope, words]) => html`<label><input type="checkbox" name="scope:${scope}"> ${words}</label>`,
    )}</fieldset>
<label for="days">Expires after (days, 1 to ${MAX_PERSONAL_TOKEN_DAYS})</label><input id="days" name="days" type="text" value="30">
<button type="submit">Create token</button>
</form>
<h2>Revoke a token</h2>
<form method="post" action="/personal-tokens">
<input type="hidden" name="csrf" value="${csrf}">
<label for="r-email">Email</label><input id="r-email" name="email" type="email" required>
<label for="r-password">Password</label><input id="r-password" name="password" type="password" required>
<label for="revoke">Token id</label><input id="revoke" name="revoke" type="text" required>
<button type="submit">Revoke</button>
</form>
<p class="note"><a href="/sign-out-everywhere">Sign out everywhere</a> · <a href="/delete-account">Delete your account</a></p>`,
  );
}
