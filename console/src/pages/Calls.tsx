import { type FormEvent, useState } from 'react';
import { Link } from 'wouter';
import { useConsole, useLoad, useWatch } from '../context';
import { CALL_STATUSES, type Call, type CallStatus } from '../types';
import { credits, duration, Empty, Loading, Page, Problem, StatusBadge, when } from '../ui';

interface History {
  calls: Call[];
  nextCursor: string | null;
}

/** Digits with an optional leading +, as getCallHistory's `number` takes them. */
const NUMBER = /^\+?\d{1,20}$/;

export function CallsPage() {
  const { gateway } = useConsole();
  const [statuses, setStatuses] = useState<CallStatus[]>([]);
  const [typed, setTyped] = useState('');
  const [number, setNumber] = useState('');
  const [numberError, setNumberError] = useState<string>();
  const [more, setMore] = useState<{ calls: Call[]; cursor: string | null }>({ calls: [], cursor: null });
  const args = {
    pageSize: 20,
    ...(statuses.length ? { status: statuses } : {}),
    ...(number ? { number } : {}),
  };
  const list = useLoad(async () => {
    const page = await gateway.call<History>('getCallHistory', args);
    setMore({ calls: [], cursor: page.nextCursor });
    return page;
  }, JSON.stringify(args));
  // Any of your calls changing (placed, ringing, answered, ended) reloads the list in place.
  useWatch(['callgate://calls'], list.reload);

  const search = (event: FormEvent) => {
    event.preventDefault();
    const value = typed.replace(/[\s().-]/g, '');
    if (value && !NUMBER.test(value)) {
      setNumberError('Digits only, with an optional leading +, up to 20.');
      return;
    }
    setNumberError(undefined);
    setNumber(value);
  };
  const toggle = (status: CallStatus) =>
    setStatuses((now) => (now.includes(status) ? now.filter((s) => s !== status) : [...now, status]));
  const loadMore = async () => {
    if (!more.cursor) return;
    const page = await gateway.call<History>('getCallHistory', { ...args, cursor: more.cursor });
    setMore((m) => ({ calls: [...m.calls, ...page.calls], cursor: page.nextCursor }));
  };
  const calls = [...(list.data?.calls ?? []), ...more.calls];

  return (
    <Page title="Calls">
      <p>
        <Link href="/calls/new" className="button primary">
          Place a call
        </Link>
      </p>
      <form className="filters" onSubmit={search} aria-label="Filter calls">
        <fieldset>
          <legend>Status</legend>
          <div className="chips">
            {CALL_STATUSES.map((status) => (
              <label key={status} className="chip">
                <input type="checkbox" checked={statuses.includes(status)} onChange={() => toggle(status)} />
                {status}
              </label>
            ))}
          </div>
        </fieldset>
        <div className="field">
          <label htmlFor="number-search">Search by number</label>
          <div className="inline">
            <input
              id="number-search"
              type="search"
              inputMode="tel"
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              placeholder="+1415555"
              aria-invalid={numberError ? true : undefined}
              aria-describedby={numberError ? 'number-search-error' : undefined}
            />
            <button type="submit">Search</button>
          </div>
          {numberError && (
            <small id="number-search-error" className="field-error" role="alert">
              {numberError}
            </small>
          )}
        </div>
      </form>
      {list.error && <Problem error={list.error} retry={list.reload} />}
      {!list.data && !list.error && <Loading what="your calls" />}
      {list.data && calls.length === 0 && (
        <Empty>
          {statuses.length || number ? 'No calls match these filters.' : 'No calls yet. Place your first one.'}
        </Empty>
      )}
      {calls.length > 0 && (
        <div className="table-wrap">
          <table className="calls">
            <caption className="visually-hidden">Your calls, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Placed</th>
                <th scope="col">To</th>
                <th scope="col">Status</th>
                <th scope="col">Duration</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              {calls.map((call) => (
                <tr key={call.callId} data-call-id={call.callId}>
                  <td>
                    <Link href={`/calls/${call.callId}`}>{when(call.createdAt)}</Link>
                  </td>
                  <td>{call.to}</td>
                  <td data-status={call.status}>
                    <StatusBadge status={call.status} />
                  </td>
                  <td>{duration(call.durationSeconds)}</td>
                  <td>{credits(call.costCredits)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {more.cursor && (
        <button type="button" onClick={loadMore}>
          Load more
        </button>
      )}
    </Page>
  );
}
