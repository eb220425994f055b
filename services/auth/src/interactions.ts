import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Accounts } from './accounts.js';
import type { Csrf } from './csrf.js';
import { readForm, sendPage } from './forms.js';
import { html, page } from './html.js';
import type { KnownDevices } from './known-devices.js';
import { describeScope } from './scopes.js';
import { signInFromForm } from './sign-in-form.js';
import { startUpstreamSignIn, type UpstreamPagesDeps, upstreamButtons } from './upstream-pages.js';

export interface InteractionDeps extends UpstreamPagesDeps {
  provider: Provider;
  accounts: Accounts;
  csrf: Csrf;
  clientAddress: (req: IncomingMessage) => string;
  devices: KnownDevices;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const STATUS_OF = { invalid: 401, locked: 423, limited: 429, unverified: 403 } as const;

/**
 * The sign-in and consent steps of an authorization request (/interaction/<uid>). oidc-provider ties
 * each interaction to the browser by its cookie; our forms add a CSRF token bound to the interaction.
 */
export async function serveInteraction(
  deps: InteractionDeps,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  action: string | undefined,
): Promise<void> {
  const details = await deps.provider.interactionDetails(req, res);
  if (details.uid !== uid) return sendPage(res, 400, page('Sign-in expired', html`<p>Start again from your app.</p>`));
  const client = await deps.provider.Client.find(String(details.params.client_id));
  const clientName = String(client?.clientName ?? details.params.client_id);
  if (req.method === 'GET' && !action) {
    return details.prompt.name === 'login'
      ? sendPage(res, 200, loginPage(deps, req, res, uid, clientName))
      : sendPage(res, 200, consentPage(deps, req, res, details, clientName));
  }
  if (req.method !== 'POST') return sendPage(res, 405, page('Not allowed', html`<p>Use the form.</p>`));
  const form = await readForm(req);
  if (!deps.csrf.check(req, `${action}:${uid}`, form.csrf)) {
    return sendPage(
      res,
      403,
      page(
        'Form expired',
        html`<p class="error">This form is no longer valid (missing or wrong CSRF token). Go back to your app and start again.</p>`,
      ),
    );
  }
  if (action === 'login' && details.prompt.name === 'login') {
    const outcome = await signInFromForm(deps, req, res, form);
    if ('problem' in outcome) {
      return sendPage(
        res,
        STATUS_OF[outcome.problem],
        loginPage(deps, req, res, uid, clientName, outcome.message, form.email),
      );
    }
    return deps.provider.interactionFinished(
      req,
      res,
      { login: { accountId: outcome.accountId } },
      {
        mergeWithLastSubmission: false,
      },
    );
  }
  if (action === 'upstream' && details.prompt.name === 'login') {
    return startUpstreamSignIn(deps, req, res, uid, form.provider);
  }
  if (action === 'consent' && details.prompt.name === 'consent') {
    if (form.decision !== 'allow') {
      return deps.provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'the person declined to grant access' },
        { mergeWithLastSubmission: false },
      );
    }
    const grantId = await saveGrant(deps.provider, details);
    return deps.provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return sendPage(
    res,
    400,
    page('Out of step', html`<p>This step does not apply now. Go back to your app and start again.</p>`),
  );
}

/** The grant the person consented to: the sign-in scopes and the gateway's scopes asked for. */
async function saveGrant(provider: Provider, details: Details): Promise<string> {
  const accountId = details.session?.accountId as string;
  const clientId = String(details.params.client_id);
  const grant = details.grantId
    ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId }))
    : new provider.Grant({ accountId, clientId });
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

function loginPage(
  deps: InteractionDeps,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  clientName: string,
  error?: string,
  email?: string,
): string {
  const back = `/interaction/${uid}`;
  return page(
    'Sign in to callgate',
    html`<p><strong>${clientName}</strong> wants to use callgate for you. Sign in to continue.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="${back}/login">
<input type="hidden" name="csrf" value="${deps.csrf.token(req, res, `login:${uid}`)}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${email ?? ''}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
${upstreamButtons(deps, req, res, uid)}
<p class="note">No account? <a href="/signup?return=${encodeURIComponent(back)}">Create one</a>. Forgot your password? <a href="/reset-password">Reset it</a>.</p>`,
  );
}

function consentPage(
  deps: InteractionDeps,
  req: IncomingMessage,
  res: ServerResponse,
  details: Details,
  clientName: string,
): string {
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const scopes = [
    ...new Set([...(missing.missingOIDCScope ?? []), ...Object.values(missing.missingResourceScopes ?? {}).flat()]),
  ].filter((s) => s !== 'openid');
  const redirect = URL.parse(String(details.params.redirect_uri));
  return page(
    'Allow access?',
    html`<p><strong>${clientName}</strong> asks to use your callgate account. It will be able to:</p>
<ul class="scopes">${scopes.map((s) => html`<li data-scope="${s}">${describeScope(s)}</li>`)}</ul>
<p class="note">After you allow, you return to ${redirect?.host ?? 'the app'}. You can revoke access at any time by signing out everywhere.</p>
<form method="post" action="/interaction/${details.uid}/consent">
<input type="hidden" name="csrf" value="${deps.csrf.token(req, res, `consent:${details.uid}`)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}
