import type { Clock, Database } from '@callgate/common';
import { type Adapter, type AdapterPayload, errors } from 'oidc-provider';

/**
 * PostgreSQL text and jsonb cannot hold U+0000: a NUL byte in any parameter (a state, a code, a client
 * name) would fail the query and answer 500. No stored id holds one, and no payload may.
 */
const hasNul = (text: string) => text.includes('\u0000');

function serialized(payload: AdapterPayload): string {
  let nul = false;
  const json = JSON.stringify(payload, (key, value) => {
    if (hasNul(key) || (typeof value === 'string' && hasNul(value))) nul = true;
    return value;
  });
  if (nul) throw new errors.InvalidRequest('a parameter holds a NUL character');
  return json;
}

/** Kinds presented once at /token: consuming one is atomic, and a second concurrent use is reuse. */
const SINGLE_USE = new Set(['AuthorizationCode', 'RefreshToken']);

interface PayloadRow {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

/**
 * oidc-provider's storage in PostgreSQL (auth.oidc_payloads): one row per model instance (Grant,
 * AuthorizationCode, RefreshToken, Session, Interaction, registered Client, ...). Expired rows are
 * never returned, and a sweep deletes them (sweepExpired). revokeByGrantId removes every record of a
 * grant at once: a revoked grant, or a reused refresh token, ends all its tokens together.
 */
export function postgresAdapter(
  db: Database,
  clock: Clock,
  /**
   * A registered client (kind Client: Dynamic Client Registration) expires this long after it was
   * registered unless a person grants it something first (a Grant for it is stored), which makes it
   * permanent. Undefined: registered clients never expire.
   */
  unusedClientSeconds?: number,
): new (
  name: string,
) => Adapter {
  return class PostgresAdapter implements Adapter {
    constructor(private readonly kind: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const lifetime = this.kind === 'Client' && !expiresIn ? unusedClientSeconds : expiresIn;
      const expiresAt = lifetime ? new Date(clock.now() + lifetime * 1000) : null;
      await db.query(
        `INSERT INTO auth.oidc_payloads (kind, id, payload, grant_id, user_code, uid, account_id, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (kind, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
           user_code = EXCLUDED.user_code, uid = EXCLUDED.uid, account_id = EXCLUDED.account_id,
           expires_at = EXCLUDED.expires_at`,
        [
          this.kind,
          id,
          serialized(payload),
          payload.grantId ?? null,
          payload.userCode ?? null,
          payload.uid ?? null,
          payload.accountId ?? null,
          expiresAt,
        ],
      );
      if (this.kind === 'Grant' && typeof payload.clientId === 'string') {
        // A person granted the client something: it is in use, and no longer expires for lack of use.
        await db.query(
          "UPDATE auth.oidc_payloads SET expires_at = NULL WHERE kind = 'Client' AND id = $1 AND expires_at IS NOT NULL",
          [payload.clientId],
        );
      }
    }

    find(id: string): Promise<AdapterPayload | undefined> {
      return this.one('id = $2', id);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.one('user_code = $2', userCode);
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.one('uid = $2', uid);
    }

    async consume(id: string): Promise<void> {
      if (hasNul(id)) return;
      if (!SINGLE_USE.has(this.kind)) {
        await db.query('UPDATE auth.oidc_payloads SET consumed_at = $3 WHERE kind = $1 AND id = $2', [
          this.kind,
          id,
          clock.date(),
        ]);
        return;
      }
      // oidc-provider reads a code or refresh token, checks it is unused, then consumes it: two requests
      // presenting it at once both passed the check, and both got tokens (ten refreshes at once, ten new
      // refresh tokens). Only the request whose update finds it unused wins; the others presented a used
      // one, and are answered as oidc-provider answers reuse: the grant is revoked and invalid_grant.
      const { rowCount } = await db.query(
        'UPDATE auth.oidc_payloads SET consumed_at = $3 WHERE kind = $1 AND id = $2 AND consumed_at IS NULL',
        [this.kind, id, clock.date()],
      );
      if (rowCount === 1) return;
      const { rows } = await db.query<{ grant_id: string | null }>(
        'SELECT grant_id FROM auth.oidc_payloads WHERE kind = $1 AND id = $2',
        [this.kind, id],
      );
      const grantId = rows[0]?.grant_id;
      if (grantId) {
        await db.query('DELETE FROM auth.oidc_payloads WHERE grant_id = $1 OR (kind = $2 AND id = $1)', [
          grantId,
          'Grant',
        ]);
      }
      throw new errors.InvalidGrant(
        `${this.kind === 'RefreshToken' ? 'refresh token' : 'authorization code'} already used`,
      );
    }

    async destroy(id: string): Promise<void> {
      if (hasNul(id)) return;
      await db.query('DELETE FROM auth.oidc_payloads WHERE kind = $1 AND id = $2', [this.kind, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      if (hasNul(grantId)) return;
      // Every kind, not only this one: the grant and all its codes and tokens go together.
      await db.query('DELETE FROM auth.oidc_payloads WHERE grant_id = $1 OR (kind = $2 AND id = $1)', [
        grantId,
        'Grant',
      ]);
    }

    private async one(where: string, value: string): Promise<AdapterPayload | undefined> {
      if (hasNul(value)) return undefined;
      const { rows } = await db.query<PayloadRow>(
        `SELECT payload, consumed_at FROM auth.oidc_payloads
         WHERE kind = $1 AND ${where} AND (expires_at IS NULL OR expires_at > $3)`,
        [this.kind, value, clock.date()],
      );
      const row = rows[0];
      if (!row) return undefined;
      // oidc-provider tells a consumed code or refresh token by this field (replay and reuse detection).
      return row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
    }
  };
}

/** Deletes expired records (registered clients nobody used included); returns how many went. */
export async function sweepExpired(db: Database, now: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM auth.oidc_payloads WHERE expires_at <= $1', [now]);
  return rowCount;
}
