import {
  addressPolicy,
  bareHost,
  checkedAddress,
  invalidArgument,
  isForbiddenAddressError,
  isLoopbackHost,
  type Lookup,
  systemLookup,
} from '@callgate/common';

/** Longest endpoint URL accepted (what browsers and proxies reliably carry). */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

export interface UrlPolicyOptions {
  /** WEBHOOK_LOCAL_MODE: loopback receivers allowed, over http too. */
  localMode: boolean;
  lookup?: Lookup;
}

/**
 * Checks an endpoint URL when it is registered; returns it as the URL parser writes it. HTTPS only (http
 * only to a loopback receiver, in local mode); no credentials (they would be sent, and logged by proxies);
 * no fragment; and the host must resolve to public addresses only (every address, as at delivery, where
 * the check is made again with the connection pinned to the address checked: DNS may change meanwhile).
 * Every refusal is INVALID_ARGUMENT naming the field and the reason.
 */
export async function checkEndpointUrl(raw: string, options: UrlPolicyOptions): Promise<string> {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) {
    throw invalidArgument('url', `at most ${MAX_WEBHOOK_URL_LENGTH} characters, got ${raw.length}`);
  }
  // Control characters (NUL included) and spaces: the URL parser would strip or escape some silently.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters
  if (/[\u0000-\u0020\u007f]/.test(raw)) throw invalidArgument('url', 'must not contain spaces or control characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidArgument('url', 'not an absolute URL (https://host/path)');
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && options.localMode && loopback)) {
    throw invalidArgument(
      'url',
      options.localMode
        ? 'must be https (http only to a loopback receiver in local mode)'
        : `must be https, got ${url.protocol.replace(/:$/, '')}`,
    );
  }
  if (url.username || url.password) throw invalidArgument('url', 'must not carry credentials (user:password@)');
  if (url.hash) throw invalidArgument('url', 'must not have a fragment (#…)');
  if (loopback && options.localMode) return url.href;
  try {
    await checkedAddress(url.hostname, options.lookup ?? systemLookup, addressPolicy(options.localMode));
  } catch (error) {
    if (isForbiddenAddressError(error)) {
      throw invalidArgument('url', `${error.message}: webhooks are only delivered to public addresses`);
    }
    throw error;
  }
  return url.href;
}

/** Whether a URL may be delivered to at all (scheme); the address is checked when connecting. */
export function deliverableScheme(url: URL, localMode: boolean): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && localMode && isLoopbackHost(bareHost(url.hostname)));
}
