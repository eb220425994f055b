import { useConsole } from '../context';
import { snippets } from '../snippets';
import { CopyButton, Page } from '../ui';

export function ConnectPage() {
  const { config } = useConsole();
  return (
    <Page title="Connect your client">
      <p>
        Your agents reach callgate at <code>{config.mcpUrl}</code>. Each client opens the sign-in page the first time
        and appears under Connected apps once you allow it. Scripts without a browser use a personal access token
        instead.
      </p>
      {snippets(config.mcpUrl).map((s) => {
        const id = `snippet-${s.client.replace(/\W+/g, '-').toLowerCase()}`;
        return (
          <section key={s.client} aria-labelledby={id} className="snippet">
            <h2 id={id}>{s.client}</h2>
            <p className="muted">{s.where}</p>
            <pre>
              <code>{s.text}</code>
            </pre>
            <CopyButton text={s.text} label={`Copy the ${s.client} configuration`} />
          </section>
        );
      })}
    </Page>
  );
}
