/**
 * The environment variables each service validates at start-up, from the same zod shapes the services
 * load (and the README table is generated from). Deployment files are checked against this, so a
 * misspelt or removed variable in compose or a task definition fails here instead of being silently
 * ignored in production.
 */
import { authConfigShape } from '@callgate/auth';
import { callConfigShape } from '@callgate/call';
import { gatewayConfigShape } from '@callgate/gateway';
import { pollerConfigShape } from '@callgate/poller';
import { sandboxConfigShape } from '@callgate/sandbox';
import { sheetsSyncConfigShape } from '@callgate/sheets-sync';
import { userCreditConfigShape } from '@callgate/user-credit';

export const SERVICE_VARIABLES: Record<string, ReadonlySet<string>> = {
  gateway: new Set(Object.keys(gatewayConfigShape)),
  call: new Set(Object.keys(callConfigShape)),
  'user-credit': new Set(Object.keys(userCreditConfigShape)),
  'sheets-sync': new Set(Object.keys(sheetsSyncConfigShape)),
  poller: new Set(Object.keys(pollerConfigShape)),
  auth: new Set(Object.keys(authConfigShape)),
  sandbox: new Set(Object.keys(sandboxConfigShape)),
};

/** Read by libraries or the runtime rather than the zod config: the AWS SDK, Node, the image's health check. */
export const RUNTIME_VARIABLES = new Set([
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'NODE_ENV',
  'NODE_OPTIONS',
  'HEALTH_PORT',
]);

/** The six deployable services (the sandbox is a local stand-in, never deployed to AWS). */
export const DEPLOYED_SERVICES = ['gateway', 'call', 'user-credit', 'sheets-sync', 'poller', 'auth'] as const;

export function unknownVariables(service: string, names: Iterable<string>): string[] {
  const known = SERVICE_VARIABLES[service];
  if (!known) return [`${service}: not a callgate service`];
  return [...names]
    .filter((n) => !known.has(n) && !RUNTIME_VARIABLES.has(n))
    .map((n) => `${service}: ${n} is not a variable it reads`);
}
