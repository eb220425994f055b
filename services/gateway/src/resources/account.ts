import {
  type McpServer,
  ResourceTemplate,
  type ServerContext,
  UriTemplate,
  type Variables,
} from '@modelcontextprotocol/server';
import type { Backends } from '../backends.js';
import { resourceErrorFrom } from '../grpc-errors.js';
import { balanceView, preferencesView } from '../tools/account-view.js';
import { needs, SCOPES } from '../tools/scopes.js';

/** The resources of the caller's own account. URIs name no user: the token's subject decides whose data. */
export const ACCOUNT_URIS = {
  profile: 'callgate://me/profile',
  preferences: 'callgate://me/preferences',
  balance: 'callgate://me/credits/balance',
  usage: 'callgate://me/credits/usage',
} as const;

const USAGE_QUERY = ['from', 'to', 'callId', 'pageSize', 'pageToken'] as const;
const USAGE_TEMPLATE = `${ACCOUNT_URIS.usage}{?${USAGE_QUERY.join(',')}}`;

/**
 * RFC 6570 form-style query expansion leaves out undefined variables, so `usage?from=…` is a valid
 * expansion of the template; the SDK's matcher wants every variable present. This one accepts any
 * subset, in any order, and nothing else.
 */
class QueryTemplate extends UriTemplate {
  constructor(
    private readonly base: string,
    private readonly keys: readonly string[],
  ) {
    super(`${base}{?${keys.join(',')}}`);
  }

  override match(uri: string): Variables | null {
    const [path, query = ''] = uri.split(/\?(.*)/s, 2);
    if (path !== this.base) return null;
    const params = new URLSearchParams(query);
    const variables: Variables = {};
    for (const [key, value] of params) {
      if (!this.keys.includes(key) || key in variables) return null;
      variables[key] = value;
    }
    return variables;
  }
}

type Read = (uri: URL, userId: string, signal: AbortSignal) => Promise<unknown>;

/** Reads a resource as JSON for the authenticated user, creating the user on first sight. */
function jsonRead(backends: Backends, read: Read) {
  return async (uri: URL, ctx: ServerContext) => {
    const signal = ctx.mcpReq.signal;
    try {
      const userId = await backends.users.ensure(ctx.http?.authInfo);
      const value = await read(uri, userId, signal);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(value) }] };
    } catch (error) {
      resourceErrorFrom(error, uri.href);
    }
  };
}

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? '';

export function registerAccountResources(server: McpServer, backends: Backends): void {
  server.registerResource(
    'profile',
    ACCOUNT_URIS.profile,
    {
      title: 'Your profile',
      description: 'Display name, email, organisation, plan, and the caller-id numbers you may use.',
      mimeType: 'application/json',
      scopeChallenge: needs(SCOPES.profileRead),
    },
    jsonRead(
      backends,
      async (_uri, userId, signal) => (await backends.credit.getProfile({ userId }, { signal })).profile,
    ),
  );

  server.registerResource(
    'preferences',
    ACCOUNT_URIS.preferences,
    {
      title: 'Your call preferences',
      description:
        'Defaults for your calls (voice, model, language, caller id, limits); change them with updateCallPreferences.',
      mimeType: 'application/json',
      scopeChallenge: needs(SCOPES.profileRead),
    },
    jsonRead(backends, async (_uri, userId, signal) => {
      const { preferences } = await backends.credit.getPreferences({ userId }, { signal });
      return preferences ? preferencesView(preferences) : null;
    }),
  );

  server.registerResource(
    'credit-balance',
    ACCOUNT_URIS.balance,
    {
      title: 'Your credit balance',
      description: 'Credits available, held by calls in progress, and owed; lowBalance when running out.',
      mimeType: 'application/json',
      scopeChallenge: needs(SCOPES.creditsRead),
    },
    jsonRead(backends, async (_uri, userId, signal) => {
      const { balance } = await backends.credit.getBalance({ userId }, { signal });
      return balance ? balanceView(balance) : null;
    }),
  );

  const usage: Read = async (uri, userId, signal) => {
    const q = uri.searchParams;
    const size = q.get('pageSize');
    return backends.credit.listUsage(
      {
        userId,
        pageSize: size === null ? 50 : Number.isInteger(Number(size)) ? Number(size) : -1,
        pageToken: q.get('pageToken') ?? '',
        from: q.get('from') ?? '',
        to: q.get('to') ?? '',
        callId: q.get('callId') ?? '',
      },
      { signal },
    );
  };
  server.registerResource(
    'credit-usage',
    ACCOUNT_URIS.usage,
    {
      title: 'Your credit usage',
      description:
        'Your latest ledger entries (grants, holds, charges, releases) with per-day totals. ' +
        `For a range, a call or the next page read ${USAGE_TEMPLATE}.`,
      mimeType: 'application/json',
      scopeChallenge: needs(SCOPES.creditsRead),
    },
    jsonRead(backends, usage),
  );
  server.registerResource(
    'credit-usage-query',
    new ResourceTemplate(new QueryTemplate(ACCOUNT_URIS.usage, USAGE_QUERY), { list: undefined }),
    {
      title: 'Your credit usage, filtered',
      description:
        'Ledger entries newest first. from/to: RFC 3339 times; callId: one call; pageSize 1-100; ' +
        'pageToken: nextPageToken of the previous page.',
      mimeType: 'application/json',
      scopeChallenge: needs(SCOPES.creditsRead),
    },
    async (uri, variables, ctx) => {
      // The template's variables are the query; rebuilding the URL keeps one reader for both forms.
      const url = new URL(ACCOUNT_URIS.usage);
      for (const [key, value] of Object.entries(variables)) if (first(value)) url.searchParams.set(key, first(value));
      const result = await jsonRead(backends, (_u, userId, signal) => usage(url, userId, signal))(url, ctx);
      return { contents: result.contents.map((c) => ({ ...c, uri: uri.href })) };
    },
  );
}
