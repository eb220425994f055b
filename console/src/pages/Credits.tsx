import { Link } from 'wouter';
import { BarChart } from '../components/BarChart';
import { useConsole, useLoad, useWatch } from '../context';
import type { Balance, Usage } from '../types';
import { credits, Empty, Loading, Page, Problem, when } from '../ui';

const BALANCE = 'callgate://me/credits/balance';

/** The last 14 days, oldest first, a day with no charge shown as 0 rather than left out. */
function lastDays(daily: Usage['daily'], today = new Date()): { label: string; value: number }[] {
  const byDay = new Map(daily.map((d) => [d.day, d.charged]));
  return Array.from({ length: 14 }, (_, i) => {
    const day = new Date(today.getTime() - (13 - i) * 86_400_000).toISOString().slice(0, 10);
    return { label: day, value: byDay.get(day) ?? 0 };
  });
}

export function CreditsPage() {
  const { gateway } = useConsole();
  const balance = useLoad(() => gateway.read<Balance>(BALANCE), 'balance');
  const usage = useLoad(() => gateway.read<Usage>('callgate://me/credits/usage?pageSize=50'), 'usage');
  // A call starting holds credits and ending settles them: both show here without a reload.
  useWatch(['callgate://calls'], () => {
    balance.reload();
    usage.reload();
  });
  const b = balance.data;
  const days = usage.data ? lastDays(usage.data.daily) : [];

  return (
    <Page title="Credits">
      <section aria-labelledby="balance">
        <h2 id="balance">Balance</h2>
        {balance.error && <Problem error={balance.error} retry={balance.reload} />}
        {!b && !balance.error && <Loading what="your balance" />}
        {b && (
          <dl className="tiles">
            <div>
              <dt>Available</dt>
              <dd data-testid="available">{credits(b.available)}</dd>
            </div>
            <div>
              <dt>Held by live calls</dt>
              <dd data-testid="held">{credits(b.held)}</dd>
            </div>
            <div>
              <dt>Owed</dt>
              <dd data-testid="owed">{credits(b.debt)}</dd>
            </div>
          </dl>
        )}
        {b?.lowBalance && <p className="field-error">Your balance is running low.</p>}
      </section>
      <section aria-labelledby="usage">
        <h2 id="usage">Usage per day (last 14 days)</h2>
        {usage.error && <Problem error={usage.error} retry={usage.reload} />}
        {!usage.data && !usage.error && <Loading what="your usage" />}
        {usage.data && <BarChart bars={days} title="Credits charged per day" />}
      </section>
      <section aria-labelledby="ledger">
        <h2 id="ledger">Ledger</h2>
        {usage.data && usage.data.entries.length === 0 && <Empty>No entries yet.</Empty>}
        {usage.data && usage.data.entries.length > 0 && (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Ledger entries, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Available</th>
                  <th scope="col">Held</th>
                  <th scope="col">Call</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {usage.data.entries.map((e) => (
                  <tr key={e.entryId}>
                    <td>{when(e.createdAt)}</td>
                    <td>
                      {String(e.kind)
                        .replace(/^ENTRY_KIND_/, '')
                        .toLowerCase()}
                    </td>
                    <td className="num">{e.amount > 0 ? `+${e.amount}` : e.amount}</td>
                    <td className="num">{e.heldChange > 0 ? `+${e.heldChange}` : e.heldChange}</td>
                    <td>{e.callId ? <Link href={`/calls/${e.callId}`}>call</Link> : '—'}</td>
                    <td>{e.description}</td>
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
