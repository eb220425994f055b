import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ConfigError, guardedAgent, type Lookup } from '@callgate/common';
import type { Configuration } from 'oidc-provider';
import { fetch as undiciFetch } from 'undici';

// The guard itself lives in @callgate/common (outbound/address-guard.ts), shared with webhook delivery.
export { addressRange, ForbiddenAddressError, isLoopbackHost, type Lookup } from '@callgate/common';

type Fetch = NonNullable<Configuration['fetch']>;

/**
 * Every outbound request the authorization server makes for a client (its Client ID Metadata
 * Document, its jwks_uri for private_key_jwt, a sector_identifier_uri) goes through this fetch. Its
 * connector resolves the host name FIRST, refuses unless every address is ordinary public unicast
 * (classified by ipaddr.js: private, loopback, link-local, multicast, unspecified, CGNAT, unique-local,
 * IPv4-mapped forms of these, 6to4/Teredo/NAT64 and other special ranges are all refused), and then
 * connects to the address it checked, so no TCP connection (let alone a TLS ClientHello) ever reaches
 * an internal address and a second DNS answer cannot rebind the name. Redirects (jwks_uri follows
 * them) open new connections through the same connector.
 *
 * oidc-provider's own guard, which this replaces, checked the peer only after connecting (and after
 * the TLS handshake): internal ports could be probed and internal TLS services were sent a
 * ClientHello (attack finding).
 *
 * In local mode (AUTH_LOCAL_MODE, a developer's machine or a test) loopback addresses are allowed as
 * well, so a client running beside `npm start` can name itself by URL; other private ranges stay
 * refused. Certificates are checked against the public roots plus, in local mode, the CA in
 * AUTH_CIMD_EXTRA_CA_FILE. The timeout (2.5 s) and body limits are oidc-provider's.
 */
export function clientMetadataFetch(
  config: { AUTH_LOCAL_MODE: boolean; AUTH_CIMD_EXTRA_CA_FILE?: string | undefined },
  lookup?: Lookup,
): Fetch {
  if (config.AUTH_CIMD_EXTRA_CA_FILE && !config.AUTH_LOCAL_MODE) {
    throw new ConfigError('auth', [
      { variable: 'AUTH_CIMD_EXTRA_CA_FILE', message: 'is honoured only with AUTH_LOCAL_MODE=true; unset it' },
    ]);
  }
  let ca: string[] | undefined;
  if (config.AUTH_CIMD_EXTRA_CA_FILE) {
    try {
      ca = [...rootCertificates, readFileSync(config.AUTH_CIMD_EXTRA_CA_FILE, 'utf8')];
    } catch (error) {
      throw new ConfigError('auth', [
        { variable: 'AUTH_CIMD_EXTRA_CA_FILE', message: `cannot be read: ${(error as Error).message}` },
      ]);
    }
  }
  const agent = guardedAgent({
    allowLoopback: config.AUTH_LOCAL_MODE,
    ...(ca ? { ca } : {}),
    connectTimeoutMs: 2500,
    ...(lookup ? { lookup } : {}),
  });
  const guarded = (url: string | URL | Request, options?: RequestInit) =>
    undiciFetch(url instanceof Request ? url.url : url, {
      ...(options as Parameters<typeof undiciFetch>[1]),
      dispatcher: agent,
    });
  return guarded as unknown as Fetch;
}
