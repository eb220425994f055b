import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccountDeletion } from './account-deletion.js';
import type { Accounts } from './accounts.js';
import type { Csrf } from './csrf.js';
import { readForm, sendPage } from './forms.js';
import { html, page } from './html.js';
import type { KnownDevices } from './known-devices.js';
import { signInFromForm } from './sign-in-form.js';

export interface AccountDeletionPageDeps {
  accounts: Accounts;
  accountDeletion: AccountDeletion;
  csrf: Csrf;
  clientAddress: (req: IncomingMessage) => string;
  devices: KnownDevices;
}

const PURPOSE = 'delete-account';
const sameAddress = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * /delete-account: deletes the account for good (account-deletion.ts says what goes and what stays).
 * The post carries a CSRF token, the account's password (through the same limits and lockout as any
 * sign-in: a wrong one counts), and the address typed a second time, so no slip of the hand deletes an
 * account. A mismatched confirmation is refused before the password is looked at.
 */
export async function serveAccountDeletionPage(
  deps: AccountDeletionPageDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method === 'GET') return sendPage(res, 200, deletionPage(deps, req, res));
  if (req.method !== 'POST') return sendPage(res, 405, page('Not allowed', html`<p>Use the form.</p>`));
  const form = await readForm(req);
  if (!deps.csrf.check(req, PURPOSE, form.csrf)) {
    return sendPage(
      res,
      403,
      deletionPage(
        deps,
        req,
        res,
        'This form is no longer valid (missing or wrong CSRF token). Reload the page and try again.',
      ),
    );
  }
  const email = form.email ?? '';
  if (!email || !sameAddress(email, form.confirm ?? '')) {
    return sendPage(
      res,
      400,
      deletionPage(deps, req, res, 'Type your email address a second time, exactly, in the confirmation box.'),
    );
  }
  const signedIn = await signInFromForm(deps, req, res, form);
  if ('problem' in signedIn) {
    return sendPage(res, signedIn.problem === 'limited' ? 429 : 401, deletionPage(deps, req, res, signedIn.message));
  }
  if (!(await deps.accountDeletion.delete(signedIn.accountId))) {
    return sendPage(res, 410, page('Already deleted', html`<p>This account was already deleted.</p>`));
  }
  return sendPage(
    res,
    200,
    page(
      'Account deleted',
      html`<p>Your account is deleted. Every app, session and personal access token that used it has lost access
(within seconds at the gateway), and you can no longer sign in with it. We sent a last mail to confirm.</p>`,
    ),
  );
}

function deletionPage(
  deps: AccountDeletionPageDeps,
  req: IncomingMessage,
  res: ServerResponse,
  error?: string,
): string {
  return page(
    'Delete your account',
    html`<p>This deletes your callgate account for good: every app, session and personal access token loses
access (within seconds at the gateway) and you can no longer sign in. It cannot be undone.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/delete-account">
<input type="hidden" name="csrf" value="${deps.csrf.token(req, res, PURPOSE)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="confirm">Type your email again to confirm</label><input id="confirm" name="confirm" type="email" autocomplete="off" required>
<button type="submit">Delete my account</button>
</form>`,
  );
}
