import { lazy, Suspense, useState } from 'react';
import { Link, Route, Switch, useLocation } from 'wouter';
import { useConsole } from './context';
import { AppsPage } from './pages/Apps';
import { CallPage } from './pages/Call';
import { CallsPage } from './pages/Calls';
import { ConnectPage } from './pages/Connect';
import { CreditsPage } from './pages/Credits';
import { PlaceCallPage } from './pages/PlaceCall';
import { PreferencesPage } from './pages/Preferences';
import { Loading, Page, Problem } from './ui';

// Its own chunk: most visits never open it, so its code stays out of the first load.
// A chunk that fails to load (offline, or a newer deploy removed it) is an error on the page, not a blank one.
const WebhooksPage = lazy(() =>
  import('./pages/Webhooks').catch((error: Error) => ({
    default: () => (
      <Page title="Webhooks">
        <Problem error={new Error(`The page did not load (${error.message}). Reload to try again.`)} />
      </Page>
    ),
  })),
);

const NAV = [
  { href: '/', label: 'Calls' },
  { href: '/calls/new', label: 'Place a call' },
  { href: '/credits', label: 'Credits' },
  { href: '/preferences', label: 'Preferences' },
  { href: '/apps', label: 'Apps & tokens' },
  { href: '/webhooks', label: 'Webhooks' },
  { href: '/connect', label: 'Connect your client' },
];

export function App() {
  const { gateway } = useConsole();
  const [location] = useLocation();
  const [leaving, setLeaving] = useState(false);

  const signOut = async () => {
    setLeaving(true);
    await gateway.close().catch(() => undefined);
    const { revoked } = await gateway.auth.signOut();
    // A full load: nothing of the session stays in memory either.
    window.location.assign(revoked ? '/signed-out' : '/signed-out?revoked=no');
  };

  return (
    <>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="top">
        <Link href="/" className="brand">
          callgate
        </Link>
        <nav aria-label="Console">
          <ul>
            {NAV.map((item) => {
              const current =
                item.href === '/'
                  ? location === '/' || (location.startsWith('/calls/') && location !== '/calls/new')
                  : location === item.href;
              return (
                <li key={item.href}>
                  <Link href={item.href} aria-current={current ? 'page' : undefined}>
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <button type="button" className="sign-out" onClick={signOut} disabled={leaving}>
          {leaving ? 'Signing out…' : 'Sign out'}
        </button>
      </header>
      <main id="main">
        <Switch>
          <Route path="/">
            <CallsPage />
          </Route>
          <Route path="/calls/new">
            <PlaceCallPage />
          </Route>
          <Route path="/calls/:callId">{(params) => <CallPage callId={params.callId} />}</Route>
          <Route path="/credits">
            <CreditsPage />
          </Route>
          <Route path="/preferences">
            <PreferencesPage />
          </Route>
          <Route path="/apps">
            <AppsPage />
          </Route>
          <Route path="/webhooks">
            <Suspense fallback={<Loading what="the webhooks page" />}>
              <WebhooksPage />
            </Suspense>
          </Route>
          <Route path="/connect">
            <ConnectPage />
          </Route>
          <Route>
            <Page title="Not found">
              <p>
                There is no such page. <Link href="/">Go to your calls</Link>.
              </p>
            </Page>
          </Route>
        </Switch>
      </main>
    </>
  );
}
