import { lookup as dnsLookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '@callgate/common';
import ipaddr from 'ipaddr.js';
import type { Configuration } from 'oidc-provider';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';

type Fetch = NonNullable<Configuration['fetch']>;

/** Resolves a host name to its addresses (dns.lookup with all: true); injectable for tests. */
export type Lookup = (hostname: string) => Promise<string[]>;

const systemLookup: Lookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** Why an outbound fetch was refused before any connection: the message names the address. */
export class ForbiddenAddressError extends Error {
  override readonly name = 'ForbiddenAddressError';
}

/**
 * The address's range as ipaddr.js names it ('unicast' for ordinary public addresses; 'private',
 * 'loopback', 'linkLocal', 'multicast', 'unspecified', 'uniqueLocal', 'carrierGradeNat', 'reserved',
 * … otherwise). IPv4-mapped IPv6 (::ffff:a.b.c.d) is classified as the IPv4 address it carries.
 */
export function addressRange(address: string): string {
  if (!ipaddr.isValid(address)) return 'invalid';
  return ipaddr.process(address).range();
}

/** A loopback host name or literal: localhost, 127.0.0.0/8, ::1 (and ::ffff:127.x). */
export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  return bare === 'localhost' || addressRange(bare) === 'loopback';
}

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
  lookup: Lookup = systemLookup,
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
  const allowed = (address: string) => {
    const range = addressRange(address);
    return range === 'unicast' || (config.AUTH_LOCAL_MODE && range === 'loopback');
  };
  const connect = buildConnector({ ...(ca ? { ca } : {}), timeout: 2500 });
  const agent = new Agent({
    connections: 4,
    keepAliveTimeout: 1000,
    connect: (options, callback) => {
      checkedAddress(options.hostname, lookup, allowed).then(
        // The connection goes to the address just checked; `host` (name:port) still gives the TLS
        // server name and the certificate check, so a name's certificate is verified as usual.
        (address) => connect({ ...options, hostname: address }, callback),
        (error: Error) => callback(error, null),
      );
    },
  });
  const guarded = (url: string | URL | Request, options?: RequestInit) =>
    undiciFetch(url instanceof Request ? url.url : url, {
      ...(options as Parameters<typeof undiciFetch>[1]),
      dispatcher: agent,
    });
  return guarded as unknown as Fetch;
}

async function checkedAddress(
  hostname: string,
  lookup: Lookup,
  allowed: (address: string) => boolean,
): Promise<string> {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = ipaddr.isValid(bare) ? [bare] : await lookup(bare);
  if (addresses.length === 0) throw new ForbiddenAddressError(`${hostname} has no address`);
  // Every answer must be allowed, not only the first: a name with one public and one internal address is refused.
  const refused = addresses.find((address) => !allowed(address));
  if (refused !== undefined) {
    throw new ForbiddenAddressError(
      `${hostname} resolves to ${refused} (${addressRange(refused)}), which is not fetched`,
    );
  }
  return addresses[0] as string;
}
