import { type FormEvent, useState } from 'react';
import { DeliveryLog } from '../components/DeliveryLog';
import { useConsole, useLoad } from '../context';
import type { ToolError } from '../tool-error';
import { WEBHOOK_EVENTS, type Webhook } from '../types';
import { CopyButton, described, Empty, Field, FormProblem, Loading, Page, Problem, when } from '../ui';

interface Created {
  webhook: Webhook;
  secret: string;
}

/** Endpoints callgate POSTs call events to (createWebhook, listWebhooks, deleteWebhook) and their delivery logs. */
export default function WebhooksPage() {
  const { gateway, config } = useConsole();
  const list = useLoad(() => gateway.call<{ webhooks: Webhook[]; maxWebhooks: number }>('listWebhooks'), 'webhooks');
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['call.completed']);
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [createError, setCreateError] = useState<Error>();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<Created>();
  const [actionError, setActionError] = useState<Error>();
  const [open, setOpen] = useState<string>();
  const docs = `${new URL(config.mcpUrl).origin}/docs`;

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setErrors({});
    setCreateError(undefined);
    setCreating(true);
    try {
      const result = await gateway.call<Created>('createWebhook', {
        url: url.trim(),
        events,
        ...(description.trim() ? { description: description.trim() } : {}),
      });
      setCreated(result);
      setUrl('');
      setDescription('');
      list.reload();
    } catch (error) {
      setErrors((error as ToolError).fields ?? {});
      setCreateError(error as Error);
    } finally {
      setCreating(false);
    }
  };

  const remove = async (webhook: Webhook) => {
    if (!window.confirm(`Delete the endpoint ${webhook.url}? Deliveries not yet made are canceled.`)) return;
    setActionError(undefined);
    try {
      await gateway.call('deleteWebhook', { webhookId: webhook.webhookId });
      if (created?.webhook.webhookId === webhook.webhookId) setCreated(undefined);
      if (open === webhook.webhookId) setOpen(undefined);
      list.reload();
    } catch (error) {
      setActionError(error as Error);
    }
  };

  const toggle = (event: string) =>
    setEvents((now) => (now.includes(event) ? now.filter((e) => e !== event) : [...now, event]));

  return (
    <Page title="Webhooks">
      <p className="muted">
        callgate POSTs your call events to these endpoints as they happen, each signed with the endpoint's secret (the
        Callgate-Signature header). How to verify a delivery: <a href={docs}>the tool reference</a> (createWebhook) and
        docs/webhooks.md.
      </p>
      {actionError && <Problem error={actionError} />}

      {created && (
        <div className="created" role="status" data-testid="created-webhook">
          <p>
            <strong>Copy the signing secret of {created.webhook.url} now: it is not shown again.</strong>
          </p>
          <p className="inline">
            <code className="secret" data-testid="webhook-secret">
              {created.secret}
            </code>
            <CopyButton text={created.secret} label="Copy the signing secret" />
          </p>
          <p className="muted">
            Check each delivery with it: HMAC-SHA256 of “t.body” against v1 of the Callgate-Signature header (
            <a href={docs}>how</a>).
          </p>
          <button type="button" onClick={() => setCreated(undefined)}>
            I have copied it
          </button>
        </div>
      )}

      <form onSubmit={create} noValidate className="stack" aria-labelledby="new-webhook">
        <h2 id="new-webhook">New endpoint</h2>
        <Field id="webhook-url" label="URL (HTTPS, reachable from the internet)" error={errors.url}>
          <input
            {...described('webhook-url', errors.url)}
            type="url"
            inputMode="url"
            maxLength={2048}
            placeholder="https://hooks.example.com/callgate"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
          />
        </Field>
        <fieldset aria-describedby={errors.events ? 'webhook-events-error' : undefined}>
          <legend>Events</legend>
          <div className="chips">
            {WEBHOOK_EVENTS.map((name) => (
              <label key={name} className="chip">
                <input type="checkbox" checked={events.includes(name)} onChange={() => toggle(name)} />
                {name}
              </label>
            ))}
          </div>
          {errors.events && (
            <small id="webhook-events-error" className="field-error" role="alert">
              {errors.events}
            </small>
          )}
        </fieldset>
        <Field id="webhook-description" label="Description (optional)" error={errors.description}>
          <input
            {...described('webhook-description', errors.description)}
            maxLength={200}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </Field>
        <FormProblem error={createError} fields={errors} />
        <button type="submit" className="primary" disabled={creating}>
          {creating ? 'Creating…' : 'Create endpoint'}
        </button>
      </form>

      <section aria-labelledby="endpoints">
        <h2 id="endpoints">Your endpoints</h2>
        {list.error && <Problem error={list.error} retry={list.reload} />}
        {!list.data && !list.error && <Loading what="your endpoints" />}
        {list.data && list.data.webhooks.length === 0 && <Empty>No endpoints: events are not pushed anywhere.</Empty>}
        {list.data && list.data.webhooks.length > 0 && (
          <>
            <p className="muted">
              {list.data.webhooks.length} of at most {list.data.maxWebhooks}.
            </p>
            <ul className="cards">
              {list.data.webhooks.map((webhook) => (
                <li key={webhook.webhookId} className="card" data-webhook-url={webhook.url}>
                  <h3 className="url">{webhook.url}</h3>
                  {webhook.description && <p>{webhook.description}</p>}
                  <p className="scopes">
                    {webhook.events.map((e) => (
                      <code key={e}>{e}</code>
                    ))}
                  </p>
                  <p className="muted">Created {when(webhook.createdAt)}</p>
                  <p className="actions">
                    <button
                      type="button"
                      aria-expanded={open === webhook.webhookId}
                      aria-controls={`deliveries-${webhook.webhookId}`}
                      onClick={() => setOpen(open === webhook.webhookId ? undefined : webhook.webhookId)}
                    >
                      {open === webhook.webhookId ? 'Hide deliveries' : 'Show deliveries'}
                      <span className="visually-hidden"> of {webhook.url}</span>
                    </button>
                    <button type="button" className="danger" onClick={() => remove(webhook)}>
                      Delete endpoint<span className="visually-hidden"> {webhook.url}</span>
                    </button>
                  </p>
                  {open === webhook.webhookId && (
                    <div id={`deliveries-${webhook.webhookId}`}>
                      <DeliveryLog webhookId={webhook.webhookId} />
                    </div>
                  )}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
    </Page>
  );
}
