/**
 * `npm start`: the whole system on this machine with embedded defaults (no credentials, no servers).
 * Ctrl-C (or SIGTERM) drains and stops every service.
 */
import { ConfigError } from '@callgate/common';
import { mintToken, USER_SCOPES } from '@callgate/gateway';
import { startLocalSystem } from './local-system.js';

const started = Date.now();
try {
  const system = await startLocalSystem({
    env: { LOG_LEVEL: 'warn', ...process.env },
    ports: process.env.CALLGATE_PORTS === 'ephemeral' ? 'ephemeral' : 'default',
    // One process holds every service: a stray rejection is logged and counted, never the end of all of them.
    gateway: { guardProcess: true },
  });
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
      `MCP URL: ${system.mcpUrl}`,
      process.env.JWT_JWKS_URL
        ? 'Tokens: from your identity provider (JWT_JWKS_URL is set, so locally minted tokens are refused).'
        : `Token (local-user, 12 h; more with npm run mint-token): ${token}`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping…\n`);
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
