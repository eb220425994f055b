import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { type ConsoleConfig, loadConfig } from './config';
import { Console } from './context';
import { Gateway } from './gateway';
import { ConsoleAuth, takeReturnPath } from './session';
import './styles.css';

const root = createRoot(document.getElementById('root') as HTMLElement);

function Notice({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main id="main" className="notice">
      <h1>{title}</h1>
      {children}
    </main>
  );
}

function showError(title: string, error: unknown) {
  root.render(
    <Notice title={title}>
      <p role="alert">{error instanceof Error ? error.message : String(error)}</p>
      <p>
        <a href="/">Sign in again</a>
      </p>
    </Notice>,
  );
}

async function start(): Promise<void> {
  let config: ConsoleConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    showError('The console cannot start', error);
    return;
  }
  const auth = new ConsoleAuth(config);
  const gateway = new Gateway(config, auth);
  const path = window.location.pathname;

  if (path === '/signed-out') {
    const failed = new URLSearchParams(window.location.search).get('revoked') === 'no';
    root.render(
      <Notice title="You are signed out">
        {failed && (
          <p role="alert">The sign-out could not reach the authorization server; this tab forgot you anyway.</p>
        )}
        <p>
          <a href="/" className="button primary">
            Sign in
          </a>
        </p>
      </Notice>,
    );
    return;
  }
  if (path === '/callback') {
    root.render(
      <Notice title="Signing you in…">
        <p role="status">Finishing the sign-in.</p>
      </Notice>,
    );
    try {
      await gateway.finishSignIn(new URLSearchParams(window.location.search));
    } catch (error) {
      showError('The sign-in did not finish', error);
      return;
    }
    window.history.replaceState(null, '', takeReturnPath());
  }
  root.render(
    <StrictMode>
      <Console.Provider value={{ config, gateway }}>
        <App />
      </Console.Provider>
    </StrictMode>,
  );
}

void start();
