/**
 * The deployment's runtime settings, fetched from /console-config.json beside index.html, so one
 * static build serves every deployment (local, staging, production) without rebuilding.
 */
export interface SandboxPersona {
  number: string;
  name: string;
  description: string;
}

export interface ConsoleConfig {
  /** The gateway's public MCP endpoint. */
  mcpUrl: string;
  /** The authorization server's issuer URL. */
  issuer: string;
  /** The pre-registered public client id. */
  clientId: string;
  /** Numbers the sandbox answers with scripted people (local runs only). */
  sandboxPersonas: SandboxPersona[] | null;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Reads and checks the config; a broken file is an error a person can act on, not a blank page. */
export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/console-config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`/console-config.json answered ${response.status}`);
  const raw = (await response.json()) as Record<string, unknown>;
  for (const key of ['mcpUrl', 'issuer', 'clientId'] as const) {
    if (!isString(raw[key])) throw new Error(`/console-config.json lacks "${key}"`);
  }
  const personas = Array.isArray(raw.sandboxPersonas)
    ? raw.sandboxPersonas.filter(
        (p): p is SandboxPersona => typeof p === 'object' && p !== null && isString((p as SandboxPersona).number),
      )
    : null;
  return {
    mcpUrl: raw.mcpUrl as string,
    issuer: raw.issuer as string,
    clientId: raw.clientId as string,
    sandboxPersonas: personas,
  };
}
