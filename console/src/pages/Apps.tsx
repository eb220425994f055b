import { type FormEvent, useState } from 'react';
import { useConsole, useLoad } from '../context';
import type { ToolError } from '../tool-error';
import { type ConnectedApp, type PersonalToken, TOKEN_SCOPES } from '../types';
import { CopyButton, described, Empty, Field, FormProblem, Loading, Page, Problem, when } from '../ui';

interface Created extends PersonalToken {
  token: string;
}

export function AppsPage() {
  const { gateway, config } = useConsole();
  const apps = useLoad(() => gateway.call<{ apps: ConnectedApp[] }>('listConnectedApps'), 'apps');
  const tokens = useLoad(() => gateway.call<{ tokens: PersonalToken[] }>('listPersonalTokens'), 'tokens');
  const [actionError, setActionError] = useState<Error>();
  const [created, setCreated] = useState<Created>();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['calls:read']);
  const [days, setDays] = useState('30');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [createError, setCreateError] = useState<Error>();

  const revokeApp = async (app: ConnectedApp) => {
    const own = app.clientId === config.clientId;
    const question = own
      ? 'This is the console itself: revoking it signs you out here. Revoke?'
      : `Revoke ${app.clientName || app.clientId}? It can no longer act for you.`;
    if (!window.confirm(question)) return;
    setActionError(undefined);
    try {
      await gateway.call('revokeConnectedApp', { grantId: app.grantId });
      apps.reload();
    } catch (error) {
      setActionError(error as Error);
    }
  };
  const revokeToken = async (token: PersonalToken) => {
    if (!window.confirm(`Revoke the token "${token.name}"? Whatever uses it stops working.`)) return;
    setActionError(undefined);
    try {
      await gateway.call('revokePersonalToken', { tokenId: token.tokenId });
      if (created?.tokenId === token.tokenId) setCreated(undefined);
      tokens.reload();
    } catch (error) {
      setActionError(error as Error);
    }
  };
  const create = async (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    setCreateError(undefined);
    try {
      const token = await gateway.call<Created>('createPersonalToken', {
        name: name.trim(),
        scopes,
        expiresInDays: Number.isInteger(Number(days)) && days.trim() !== '' ? Number(days) : days,
      });
      setCreated(token);
      setName('');
      tokens.reload();
    } catch (error) {
      setErrors((error as ToolError).fields ?? {});
      setCreateError(error as Error);
    }
  };

  return (
    <Page title="Connected apps and tokens">
      {actionError && <Problem error={actionError} />}
      <section aria-labelledby="apps">
        <h2 id="apps">Apps you signed in to</h2>
        {apps.error && <Problem error={apps.error} retry={apps.reload} />}
        {!apps.data && !apps.error && <Loading what="connected apps" />}
        {apps.data && apps.data.apps.length === 0 && <Empty>No app may act for you.</Empty>}
        {apps.data && apps.data.apps.length > 0 && (
          <ul className="cards">
            {apps.data.apps.map((app) => (
              <li key={app.grantId} className="card">
                <h3>
                  {app.clientName || app.clientId}
                  {app.clientId === config.clientId && <span className="badge">this console</span>}
                </h3>
                <p className="scopes">
                  {app.scopes.map((s) => (
                    <code key={s}>{s}</code>
                  ))}
                </p>
                <p className="muted">
                  Allowed {when(app.grantedAt)} · last used {app.lastUsedAt ? when(app.lastUsedAt) : 'never'}
                </p>
                <button type="button" className="danger" onClick={() => revokeApp(app)}>
                  Revoke {app.clientName || app.clientId}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section aria-labelledby="tokens">
        <h2 id="tokens">Personal access tokens</h2>
        <p className="muted">For scripts and agents without a browser: send it as “Authorization: Bearer …”.</p>
        {created && (
          <div className="created" role="status" data-testid="created-token">
            <p>
              <strong>Copy your new token “{created.name}” now: it is not shown again.</strong>
            </p>
            <p className="inline">
              <code className="secret">{created.token}</code>
              <CopyButton text={created.token} label={`Copy the token ${created.name}`} />
            </p>
            <button type="button" onClick={() => setCreated(undefined)}>
              I have copied it
            </button>
          </div>
        )}
        <form onSubmit={create} noValidate className="stack" aria-labelledby="new-token">
          <h3 id="new-token">New token</h3>
          <Field id="token-name" label="Name" error={errors.name}>
            <input
              {...described('token-name', errors.name)}
              maxLength={64}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          </Field>
          <fieldset aria-describedby={errors.scopes ? 'token-scopes-error' : undefined}>
            <legend>Scopes</legend>
            <div className="chips">
              {TOKEN_SCOPES.map((scope) => (
                <label key={scope} className="chip">
                  <input
                    type="checkbox"
                    checked={scopes.includes(scope)}
                    onChange={() =>
                      setScopes((now) => (now.includes(scope) ? now.filter((s) => s !== scope) : [...now, scope]))
                    }
                  />
                  {scope}
                </label>
              ))}
            </div>
            {errors.scopes && (
              <small id="token-scopes-error" className="field-error" role="alert">
                {errors.scopes}
              </small>
            )}
          </fieldset>
          <Field id="token-days" label="Expires in (days)" error={errors.expiresInDays}>
            <input
              {...described('token-days', errors.expiresInDays)}
              inputMode="numeric"
              value={days}
              onChange={(e) => setDays(e.target.value)}
            />
          </Field>
          <FormProblem error={createError} fields={errors} />
          <button type="submit" className="primary">
            Create token
          </button>
        </form>
        {tokens.error && <Problem error={tokens.error} retry={tokens.reload} />}
        {!tokens.data && !tokens.error && <Loading what="your tokens" />}
        {tokens.data && tokens.data.tokens.length === 0 && <Empty>No personal access tokens.</Empty>}
        {tokens.data && tokens.data.tokens.length > 0 && (
          <div className="table-wrap">
            <table className="tokens">
              <caption className="visually-hidden">Your live personal access tokens</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokens.data.tokens.map((t) => (
                  <tr key={t.tokenId} data-token-name={t.name}>
                    <td>{t.name}</td>
                    <td>{t.scopes.join(' ')}</td>
                    <td>{when(t.expiresAt)}</td>
                    <td>{t.lastUsedAt ? when(t.lastUsedAt) : 'never'}</td>
                    <td>
                      <button type="button" className="danger" onClick={() => revokeToken(t)}>
                        Revoke {t.name}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Page>
  );
}
