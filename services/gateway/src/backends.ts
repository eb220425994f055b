import { connectService, type PromiseClient, type ServiceMetrics } from '@callgate/common';
import type { authV1, callV1, creditV1 } from '@callgate/protos';
import type { GatewayConfig } from './config.js';
import { UserDirectory } from './user-directory.js';

/** The gRPC services the gateway translates MCP into. */
export interface Backends {
  call: PromiseClient<callV1.CallServiceDefinition>;
  credit: PromiseClient<creditV1.CreditServiceDefinition>;
  /**
   * The authorization server (AUTH_SERVICE_ADDR): the apps:manage tools list and revoke a user's grants
   * and personal access tokens there. Absent when the gateway trusts no authorization server.
   */
  auth?: PromiseClient<authV1.AuthServiceDefinition>;
  /** Creates each user on their first authenticated request. */
  users: UserDirectory;
  /**
   * Forgets the user's cached balance (cache/cached-backends.ts). A tool that has just seen the user's
   * call settle calls it, so its next balance read is fresh even before the change stream tells this
   * replica. Absent: nothing is cached.
   */
  forgetBalance?(userId: string): void;
}

export function connectBackends(config: GatewayConfig, metrics: ServiceMetrics): Backends {
  const options = { defaultDeadlineMs: config.GRPC_DEADLINE_MS, metrics };
  const creditClient = connectService('credit', config.CREDIT_SERVICE_ADDR, options);
  return {
    call: connectService('call', config.CALL_SERVICE_ADDR, options),
    credit: creditClient,
    ...(config.AUTH_SERVICE_ADDR ? { auth: connectService('auth', config.AUTH_SERVICE_ADDR, options) } : {}),
    users: new UserDirectory(creditClient),
  };
}
