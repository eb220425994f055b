import { randomBytes } from 'node:crypto';
import { type Clock, type Database, PERSONAL_TOKEN_PREFIX, type PersonalTokenFormat } from '@callgate/common';
import { hashSecret } from './one-time-links.js';
import { MANAGE_SCOPES, RESOURCE_SCOPES, USER_SCOPES } from './scopes.js';

/** Every personal access token starts so: the gateway tells them from JWTs by it, and secret scanners find them. */
export { PERSONAL_TOKEN_PREFIX };
export const MAX_PERSONAL_TOKEN_DAYS = 365;
/**
 * Live (unrevoked, unexpired) tokens one account may hold: enough for every agent a person runs, few
 * enough that a script creating tokens in a loop stops with a clear error instead of filling the table.
 */
export const MAX_LIVE_PERSONAL_TOKENS = 50;
/** A token's last use is written at most this often: verifying is on the request path, a write per request is not. */
export const LAST_USED_WRITE_INTERVAL_MS = 60_000;

export interface PersonalToken {
  tokenId: string;
  name: string;
  scopes: string[];
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

interface TokenRow {
  token_id: string;
  account_id: string;
  name: string;
  scopes: string[];
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export class PersonalTokenProblem extends Error {}
/** The account holds MAX_LIVE_PERSONAL_TOKENS live tokens already. */
export class PersonalTokenLimit extends PersonalTokenProblem {}
/** No account has this id (a token minted by another issuer names a user the auth service does not know). */
export class NoSuchAccount extends PersonalTokenProblem {}

/**
 * Personal access tokens for agents that cannot run a browser: named, scoped, expiring, revocable.
 * The token is shown once, when created; only its SHA-256 is stored (it is 256 random bits, so a
 * fast hash is enough: nothing to guess).
 */
export class PersonalTokens {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    /** The keyed checksum (PERSONAL_TOKEN_CHECKSUM_KEYS) new tokens carry and presented ones must hold. */
    private readonly format: PersonalTokenFormat,
  ) {}

  async create(
    accountId: string,
    input: { name: string; scopes: string[]; days: number },
  ): Promise<{ token: string; info: PersonalToken }> {
    const name = input.name.trim();
    // Characters as a person counts them (code points), as the gateway's 64 does: in UTF-16 units, 51 emoji
    // (well within the gateway's bound) were refused here as "more than 100 characters".
    if (!name || [...name].length > 100) throw new PersonalTokenProblem('name: 1 to 100 characters');
    // PostgreSQL text cannot hold NUL: refused here, not answered "internal error" by the insert.
    if (name.includes('\u0000')) throw new PersonalTokenProblem('name: must not contain NUL characters (\\u0000)');
    const managing = input.scopes.filter((s) => (MANAGE_SCOPES as readonly string[]).includes(s));
    if (managing.length) {
      throw new PersonalTokenProblem(
        `scopes: ${managing.join(', ')} cannot be given to a personal access token; choose from ${USER_SCOPES.join(', ')}`,
      );
    }
    const unknown = input.scopes.filter((s) => !(s in RESOURCE_SCOPES));
    if (unknown.length) throw new PersonalTokenProblem(`scopes: unknown ${unknown.join(', ')}`);
    if (input.scopes.length === 0) throw new PersonalTokenProblem('scopes: choose at least one');
    if (!Number.isInteger(input.days) || input.days < 1 || input.days > MAX_PERSONAL_TOKEN_DAYS) {
      throw new PersonalTokenProblem(`days: a whole number from 1 to ${MAX_PERSONAL_TOKEN_DAYS}`);
    }
    const tokenId = randomBytes(12).toString('base64url');
    // With a keyed checksum (@callgate/common personal-token.ts): the gateway refuses forgeries without asking us.
    const token = this.format.text(tokenId, randomBytes(32).toString('base64url'));
    const now = this.clock.date();
    const expiresAt = new Date(now.getTime() + input.days * 86_400_000);
    await this.db.transaction(async (tx) => {
      // The account row, locked against other creators of its tokens (NO KEY UPDATE: the insert's own
      // foreign-key check and other readers are not blocked), so concurrent creates count one at a time
      // and the cap holds however many arrive at once.
      const account = await tx.query('SELECT 1 FROM auth.accounts WHERE account_id = $1 FOR NO KEY UPDATE', [
        accountId,
      ]);
      if (account.rows.length === 0) throw new NoSuchAccount('no account of the auth service has this id');
      const live = await tx.query<{ n: string | number }>(
        `SELECT count(*) AS n FROM auth.personal_tokens
         WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2`,
        [accountId, now],
      );
      if (Number(live.rows[0]?.n ?? 0) >= MAX_LIVE_PERSONAL_TOKENS) {
        throw new PersonalTokenLimit(
          `you have ${MAX_LIVE_PERSONAL_TOKENS} live personal access tokens, the most an account may hold; revoke one you no longer use first`,
        );
      }
      await tx.query(
        `INSERT INTO auth.personal_tokens (token_id, account_id, name, token_hash, scopes, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [tokenId, accountId, name, hashSecret(token), [...new Set(input.scopes)], now, expiresAt],
      );
    });
    return {
      token,
      info: {
        tokenId,
        name,
        scopes: [...new Set(input.scopes)],
        createdAt: now,
        expiresAt,
        revokedAt: null,
        lastUsedAt: null,
      },
    };
  }

  /** The account's tokens that still work (not revoked, not expired), newest first. */
  async listLive(accountId: string): Promise<PersonalToken[]> {
    const { rows } = await this.db.query<TokenRow>(
      `SELECT * FROM auth.personal_tokens WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2
       ORDER BY created_at DESC, token_id`,
      [accountId, this.clock.date()],
    );
    return rows.map(toToken);
  }

  async list(accountId: string): Promise<PersonalToken[]> {
    const { rows } = await this.db.query<TokenRow>(
      'SELECT * FROM auth.personal_tokens WHERE account_id = $1 ORDER BY created_at DESC',
      [accountId],
    );
    return rows.map(toToken);
  }

  /** True when the account had such a token and it was live. */
  async revoke(accountId: string, tokenId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      'UPDATE auth.personal_tokens SET revoked_at = $3 WHERE account_id = $1 AND token_id = $2 AND revoked_at IS NULL',
      [accountId, tokenId, this.clock.date()],
    );
    return rowCount > 0;
  }

  /** The account and scopes of a live token, or undefined. */
  async verify(token: string): Promise<{ accountId: string; info: PersonalToken } | undefined> {
    // The gateway checked this already; checked again here, so nothing else reaches the database either.
    if (this.format.shape(token) !== 'valid') return undefined;
    const now = this.clock.date();
    const { rows } = await this.db.query<TokenRow>(
      'SELECT * FROM auth.personal_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2',
      [hashSecret(token), now],
    );
    const row = rows[0];
    if (!row) return undefined;
    // The last use, to the minute: a row write per verification would put a write on every request path.
    const stale = new Date(now.getTime() - LAST_USED_WRITE_INTERVAL_MS);
    if (!row.last_used_at || row.last_used_at <= stale) {
      await this.db.query(
        `UPDATE auth.personal_tokens SET last_used_at = $2
         WHERE token_id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`,
        [row.token_id, now, stale],
      );
      row.last_used_at = now;
    }
    return { accountId: row.account_id, info: toToken(row) };
  }
}

function toToken(row: TokenRow): PersonalToken {
  return {
    tokenId: row.token_id,
    name: row.name,
    scopes: row.scopes,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}
