import { USER_SCOPES } from './tools/scopes.js';

/** Where MCP is served: the protected resource (RFC 9728) every token is issued for. */
export const MCP_PATH = '/mcp';
export const RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/**
 * The OAuth protected-resource metadata of /mcp (RFC 9728): what a client reads after a 401 to find
 * where to sign in. Built per request because the public base URL is known only once the server
 * listens when the OS chose the port.
 */
export function protectedResource(publicBaseUrl: () => string, authorizationServers: string[] = []) {
  return {
    /** Named in the 401 challenge (WWW-Authenticate resource_metadata). */
    metadataUrl: () => `${publicBaseUrl()}${RESOURCE_METADATA_PATH}${MCP_PATH}`,
    /** Served at both the bare well-known path and the one suffixed with the resource's path. */
    isMetadataPath: (path: string) =>
      path === RESOURCE_METADATA_PATH || path === `${RESOURCE_METADATA_PATH}${MCP_PATH}`,
    metadata: () =>
      JSON.stringify({
        resource: `${publicBaseUrl()}${MCP_PATH}`,
        ...(authorizationServers.length ? { authorization_servers: authorizationServers } : {}),
        bearer_methods_supported: ['header'],
        resource_name: 'callgate',
        // What a client may ask a person for; `admin` is not (MCP clients register with this list, and the
        // authorization server refuses a registration naming a scope it never grants). Nor apps:manage: the
        // authorization server grants it to the pre-registered console alone (services/auth provider.ts).
        scopes_supported: USER_SCOPES.split(' '),
      }),
  };
}

export type ProtectedResource = ReturnType<typeof protectedResource>;
