import { useState } from 'react';
import { Link } from 'wouter';
import { useConsole, useLoad, useWatch } from '../context';
import type { WebhookDelivery } from '../types';
import { Empty, Loading, Problem, when } from '../ui';

/**
 * One endpoint's delivery log (getWebhookDeliveries), newest first, a page at a time. The cursors of the
 * pages seen are kept so "Newer" goes back without the gateway paging backwards. It reloads when a call
 * changes (a call's end is what makes most deliveries), and on "Refresh" for retries in between.
 */
export function DeliveryLog({ webhookId }: { webhookId: string }) {
  const { gateway } = useConsole();
  // cursors[i] is the cursor of page i (page 0: none).
  const [cursors, setCursors] = useState<string[]>(['']);
  const cursor = cursors[cursors.length - 1] ?? '';
  const page = useLoad(
    () =>
      gateway.call<{ deliveries: WebhookDelivery[]; nextCursor: string | null }>('getWebhookDeliveries', {
        webhookId,
        ...(cursor ? { cursor } : {}),
      }),
    `${webhookId} ${cursor}`,
  );
  useWatch(cursors.length === 1 ? ['callgate://calls'] : [], page.reload);
  const deliveries = page.data?.deliveries;
  const next = page.data?.nextCursor;

  return (
    <div className="deliveries">
      <h4>Deliveries{cursors.length > 1 ? ` (page ${cursors.length})` : ''}</h4>
      {page.error && <Problem error={page.error} retry={page.reload} />}
      {!deliveries && !page.error && <Loading what="the deliveries" />}
      {deliveries && deliveries.length === 0 && <Empty>Nothing delivered yet.</Empty>}
      {deliveries && deliveries.length > 0 && (
        <div className="table-wrap">
          <table className="deliveries-table">
            <caption className="visually-hidden">Deliveries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">State</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Next attempt</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.eventId} data-event-type={d.eventType} data-state={d.state}>
                  <td>
                    {d.eventType}
                    <br />
                    <Link href={`/calls/${d.callId}`} className="muted">
                      call {d.callId.slice(0, 8)}
                    </Link>
                  </td>
                  <td>
                    <span className={`badge delivery-${d.state}`}>{d.state}</span>
                    {d.deliveredAt && <div className="muted">{when(d.deliveredAt)}</div>}
                  </td>
                  <td className="num">{d.attempts}</td>
                  <td>
                    {d.lastStatusCode !== null ? `HTTP ${d.lastStatusCode}` : d.attempts > 0 ? 'no answer' : '—'}
                    {d.lastError && <div className="field-error">{d.lastError}</div>}
                  </td>
                  <td>{d.nextAttemptAt ? when(d.nextAttemptAt) : '—'}</td>
                  <td>{when(d.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p className="actions">
        <button type="button" onClick={page.reload} disabled={page.loading}>
          {page.loading ? 'Refreshing…' : 'Refresh'}
        </button>
        {cursors.length > 1 && (
          <button type="button" onClick={() => setCursors((c) => c.slice(0, -1))}>
            Newer
          </button>
        )}
        {next && (
          <button type="button" onClick={() => setCursors((c) => [...c, next])}>
            Older
          </button>
        )}
      </p>
    </div>
  );
}
