/**
 * `npm start`: the whole system on this machine with embedded defaults (no credentials, no servers).
 * Data (the embedded database and the token signing key) is kept in DATA_DIR (default .data), so
 * tokens from `npm run mint-token` work and calls survive a restart, in either port mode:
 * the documented ports, or with CALLGATE_PORTS=ephemeral ports the OS picks (HTTP_PORT, when set,
 * still fixes the gateway's). While it runs, DATA_DIR/local-system.json tells the operator scripts
 * (smoke, credits, dlq) where everything is. Ctrl-C (or SIGTERM) drains and stops every service.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '@callgate/common';
import { mintToken, USER_SCOPES } from '@callgate/gateway';
import { ensureConsoleBuilt } from './console-host/build.js';
import { type LocalDiscovery, localDataDir, removeDiscovery, writeDiscovery } from './local-discovery.js';
import { type LocalSystem, startLocalSystem } from './local-system.js';

const started = Date.now();
const env = process.env;
const ephemeral = env.CALLGATE_PORTS === 'ephemeral';
const dataDir = localDataDir(env);
/** The account `npm start` creates (verified) so that a client can sign in at once; AUTH_SEED_ACCOUNT overrides it. */
const seedAccount = env.AUTH_SEED_ACCOUNT ?? 'local@callgate.local:local-password-123';

function discoveryOf(system: LocalSystem): LocalDiscovery {
  return {
    pid: process.pid,
    startedAt: new Date(started).toISOString(),
    mcpUrl: system.mcpUrl,
    ...(system.consoleUrl ? { consoleUrl: system.consoleUrl } : {}),
    grpc: system.grpc,
    metrics: Object.fromEntries(
      system.services.filter((s) => s.grpcPort).map((s) => [s.name, `http://127.0.0.1:${s.opsPort}/metrics`]),
    ),
    ...(system.sqsEndpoint ? { sqsEndpoint: system.sqsEndpoint } : {}),
    jwt: { issuer: system.jwt.issuer, audience: system.jwt.audience },
    ...(env.DATABASE_URL ? {} : { pgliteDir: path.resolve(dataDir, 'pglite') }),
  };
}

/** What this run does with ports, data and keys, and the commands that work against it as started. */
function describeRun(discoveryFile: string): string[] {
  // The scripts find the system through DATA_DIR: repeat it in the commands when it is not the default.
  const prefix = env.DATA_DIR ? `DATA_DIR=${env.DATA_DIR} ` : '';
  return [
    `Ports: ${ephemeral ? `picked by the OS (CALLGATE_PORTS=ephemeral)${env.HTTP_PORT ? `, gateway on HTTP_PORT=${env.HTTP_PORT}` : ''}` : 'the documented defaults'}.`,
    `Data: ${env.DATABASE_URL ? 'PostgreSQL at DATABASE_URL' : `embedded database in ${path.resolve(dataDir, 'pglite')}`}; kept across restarts (delete ${path.resolve(dataDir)} to start afresh).`,
    `Signing key: ${env.JWT_JWKS_URL ? 'none (JWT_JWKS_URL: tokens come from your identity provider)' : env.JWT_SECRET ? 'JWT_SECRET' : `${path.resolve(dataDir, 'dev-jwt-secret')} (kept, so minted tokens stay valid)`}.`,
    `Addresses for the scripts below: ${discoveryFile}`,
    '',
    'Try:',
    `  ${prefix}npm run smoke                                   checks every service the way a user would`,
    `  ${prefix}npm run mint-token -- --sub alice               a token for another user`,
    `  ${prefix}npm run credits -- balance --user local-user    a user's credits (grant: see scripts/credits.ts)`,
    `  ${prefix}npm run dlq -- list                             the call-status dead-letter queue`,
  ];
}

try {
  mkdirSync(dataDir, { recursive: true });
  // The web console: built first when its build is missing or stale; without it the rest still starts.
  const consoleBuild = await ensureConsoleBuilt(path.resolve(import.meta.dirname, '..'));
  const system = await startLocalSystem({
    ...(consoleBuild.state === 'ready' ? { console: { root: consoleBuild.dist } } : {}),
    // Its own data (DATA_DIR or the user's DATABASE_URL): the stale-call sweep runs in either port mode.
    env: { LOG_LEVEL: 'warn', SWEEP_ENABLED: 'true', ...env, AUTH_SEED_ACCOUNT: seedAccount },
    ports: ephemeral ? 'ephemeral' : 'default',
    dataDir,
    ...(env.HTTP_PORT ? { httpPort: env.HTTP_PORT } : {}),
    // One process holds every service: a stray rejection is logged and counted, never the end of all of them.
    gateway: { guardProcess: true },
  });
  const discoveryFile = writeDiscovery(dataDir, discoveryOf(system));
  const token = mintToken(system.jwt, { sub: 'local-user', scope: USER_SCOPES }, 12 * 3600);
  const lines = system.services.map((s) => {
    const parts = s.grpcPort
      ? [
          `gRPC 127.0.0.1:${s.grpcPort}`,
          `metrics http://127.0.0.1:${s.opsPort}/metrics`,
          ...Object.entries(s.endpoints).map(([k, v]) => `${k} ${v}`),
        ]
      : [`twilio and sheets http://127.0.0.1:${s.opsPort}`];
    return `  ${s.name.padEnd(12)} ${parts.join('  ')}`;
  });
  process.stdout.write(
    [
      `callgate is running (${((Date.now() - started) / 1000).toFixed(1)} s):`,
      ...lines,
      `  ${'sqs'.padEnd(12)} ${system.sqsEndpoint ?? 'SQS_QUEUE_URL'}`,
      '',
      `MCP URL: ${system.mcpUrl}   (add it to your MCP client; sign in when asked)`,
      system.consoleUrl
        ? `Console: ${system.consoleUrl}   (the web console: calls, credits, connected apps)`
        : `Console: not served (${consoleBuild.state === 'ready' ? 'not started' : consoleBuild.reason})`,
      `Sign-in: ${system.authUrl}   account ${seedAccount.slice(0, seedAccount.indexOf(':'))}, password ${seedAccount.slice(seedAccount.indexOf(':') + 1)}`,
      `Mail sent (sign-up, password reset): ${system.mailUrl}`,
      env.JWT_JWKS_URL
        ? 'Tokens: from your identity provider (JWT_JWKS_URL is set, so locally minted tokens are refused).'
        : `Token for scripts (local-user, 12 h; more with npm run mint-token): ${token}`,
      ...describeRun(discoveryFile),
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping…\n`);
    removeDiscovery(dataDir);
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    system.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
} catch (error) {
  process.stderr.write(
    error instanceof ConfigError ? `${error.message}\n` : `start failed: ${String((error as Error).stack ?? error)}\n`,
  );
  process.exit(error instanceof ConfigError ? 2 : 1);
}
