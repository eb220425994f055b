import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';

/**
 * The one guard for requests callgate makes to URLs its users choose (an OAuth client's metadata
 * document and jwks_uri in the auth service, a webhook endpoint in the call service): nothing internal
 * is ever connected to, and DNS rebinding cannot redirect a connection.
 */

/** Resolves a host name to its addresses (dns.lookup with all: true); injectable for tests. */
export type Lookup = (hostname: string) => Promise<string[]>;

export const systemLookup: Lookup = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/** Why an outbound request was refused before any connection: the message names the address. */
export class ForbiddenAddressError extends Error {
  override readonly name = 'ForbiddenAddressError';
}

export const isForbiddenAddressError = (error: unknown): error is ForbiddenAddressError =>
  error instanceof ForbiddenAddressError;

/**
 * The address's range as ipaddr.js names it ('unicast' for ordinary public addresses; 'private',
 * 'loopback', 'linkLocal', 'multicast', 'unspecified', 'uniqueLocal', 'carrierGradeNat', 'reserved',
 * … otherwise). IPv4-mapped IPv6 (::ffff:a.b.c.d) is classified as the IPv4 address it carries.
 */
export function addressRange(address: string): string {
  if (!ipaddr.isValid(address)) return 'invalid';
  return ipaddr.process(address).range();
}

/** A host name without the brackets of an IPv6 literal in a URL. */
export const bareHost = (hostname: string): string => hostname.replace(/^\[(.*)\]$/, '$1');

/** A loopback host name or literal: localhost, 127.0.0.0/8, ::1 (and ::ffff:127.x). */
export function isLoopbackHost(hostname: string): boolean {
  const bare = bareHost(hostname);
  return bare === 'localhost' || addressRange(bare) === 'loopback';
}

/**
 * Which addresses may be connected to: ordinary public unicast only (private, loopback, link-local,
 * multicast, unspecified, CGNAT, unique-local, IPv4-mapped forms of these, 6to4/Teredo/NAT64 and other
 * special ranges are all refused), plus loopback when `allowLoopback` (local mode: a developer's
 * machine or a test).
 */
export const addressPolicy =
  (allowLoopback: boolean) =>
  (address: string): boolean => {
    const range = addressRange(address);
    return (range === 'unicast' && globalUnicast(address)) || (allowLoopback && range === 'loopback');
  };

/** IANA's global unicast IPv6 space; ipaddr.js calls anything it has no name for 'unicast'. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * IPv4 as ipaddr.js ranges it; IPv6 only in 2000::/3. Without this, ::/8 addresses ipaddr.js leaves
 * unnamed passed as public: the IPv4-compatible ::a9fe:a9fe, which is what the URL parser makes of
 * [::169.254.169.254] (attack2 finding), and ::7f00:1 for 127.0.0.1.
 */
function globalUnicast(address: string): boolean {
  const parsed = ipaddr.process(address);
  return parsed.kind() === 'ipv4' || parsed.match(GLOBAL_UNICAST_V6);
}

/**
 * Resolves a host (a literal is taken as is) and returns its first address if EVERY address is
 * allowed: a name with one public and one internal address is refused. Throws ForbiddenAddressError.
 */
export async function checkedAddress(
  hostname: string,
  lookup: Lookup,
  allowed: (address: string) => boolean,
): Promise<string> {
  const bare = bareHost(hostname);
  let addresses: string[];
  try {
    addresses = ipaddr.isValid(bare) ? [bare] : await lookup(bare);
  } catch (error) {
    throw new ForbiddenAddressError(
      `${hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (addresses.length === 0) throw new ForbiddenAddressError(`${hostname} has no address`);
  const refused = addresses.find((address) => !allowed(address));
  if (refused !== undefined) {
    throw new ForbiddenAddressError(
      `${hostname} resolves to ${refused} (${addressRange(refused)}), which is refused (not a public address)`,
    );
  }
  return addresses[0] as string;
}

export interface GuardedAgentOptions {
  /** Loopback addresses allowed too (local mode only). */
  allowLoopback: boolean;
  /** Certificates trusted instead of Node's default roots (e.g. the public roots plus a local CA). */
  ca?: string[];
  /** Bound on the TCP connect and TLS handshake. */
  connectTimeoutMs: number;
  /** Connections kept per origin. */
  connections?: number;
  lookup?: Lookup;
}

/**
 * An undici dispatcher whose connector resolves the host name FIRST, refuses unless every address is
 * allowed (addressPolicy), and then connects to the address it checked, so no TCP connection (let
 * alone a TLS ClientHello) ever reaches an internal address and a second DNS answer cannot rebind the
 * name. `host` (name:port) still gives the TLS server name, so a name's certificate is verified as usual.
 * Redirects, where a caller follows them, open new connections through the same connector.
 */
export function guardedAgent(options: GuardedAgentOptions): Agent {
  const lookup = options.lookup ?? systemLookup;
  const allowed = addressPolicy(options.allowLoopback);
  const connect = buildConnector({ ...(options.ca ? { ca: options.ca } : {}), timeout: options.connectTimeoutMs });
  return new Agent({
    connections: options.connections ?? 4,
    keepAliveTimeout: 1000,
    connect: (connectOptions, callback) => {
      checkedAddress(connectOptions.hostname, lookup, allowed).then(
        (address) => connect({ ...connectOptions, hostname: address }, callback),
        (error: Error) => callback(error, null),
      );
    },
  });
}
