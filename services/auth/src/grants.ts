import type { Clock, Database } from '@callgate/common';
import { postgresAdapter } from './adapter.js';

/** A grant's last use is written at most this often (CheckAccess runs on the gateway's request path). */
export const GRANT_LAST_USED_WRITE_INTERVAL_MS = 60_000;

export interface GrantView {
  grantId: string;
  clientId: string;
  clientName: string;
  scopes: string[];
  grantedAt: Date;
  lastUsedAt: Date | null;
}

interface GrantPayload {
  clientId?: string;
  iat?: number;
  openid?: { scope?: string };
  resources?: Record<string, string>;
}

interface GrantRow {
  id: string;
  payload: GrantPayload;
  last_used_at: Date | null;
  client_name: string | null;
}

/**
 * The OAuth grants people gave to apps (oidc-provider's Grant records, stored by adapter.ts), for the
 * apps:manage tools: listed and revoked per account, never across accounts.
 */
export class Grants {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    /** Clients configured rather than registered (the console): their names, by client id. */
    private readonly staticClientNames: Readonly<Record<string, string>> = {},
  ) {}

  /** The account's live grants, newest first, with each client's registered name when it has one. */
  async list(accountId: string): Promise<GrantView[]> {
    const { rows } = await this.db.query<GrantRow>(
      `SELECT g.id, g.payload, g.last_used_at, c.payload->>'client_name' AS client_name
       FROM auth.oidc_payloads g
       LEFT JOIN auth.oidc_payloads c ON c.kind = 'Client' AND c.id = g.payload->>'clientId'
       WHERE g.kind = 'Grant' AND g.account_id = $1 AND (g.expires_at IS NULL OR g.expires_at > $2)`,
      [accountId, this.clock.date()],
    );
    return rows
      .map((row) => {
        const clientId = String(row.payload.clientId ?? '');
        const scopes = new Set<string>();
        for (const list of [row.payload.openid?.scope, ...Object.values(row.payload.resources ?? {})]) {
          for (const scope of String(list ?? '').split(' ')) if (scope) scopes.add(scope);
        }
        return {
          grantId: row.id,
          clientId,
          // A client known by its metadata document URL has no stored name: its id (the URL) names it.
          clientName: this.staticClientNames[clientId] ?? row.client_name ?? clientId,
          scopes: [...scopes].sort(),
          grantedAt: new Date((row.payload.iat ?? 0) * 1000),
          lastUsedAt: row.last_used_at,
        };
      })
      .sort((a, b) => b.grantedAt.getTime() - a.grantedAt.getTime() || a.grantId.localeCompare(b.grantId));
  }

  /**
   * Revokes the account's grant and every code and token of it (the adapter's revokeByGrantId, as a
   * reused refresh token does). False when the account has no such grant: another account's grant is
   * "not found" too, and is left alone.
   */
  async revoke(accountId: string, grantId: string): Promise<boolean> {
    if (grantId.includes('\u0000') || grantId.length > 256) return false;
    const { rows } = await this.db.query(
      `SELECT 1 FROM auth.oidc_payloads WHERE kind = 'Grant' AND id = $1 AND account_id = $2
         AND (expires_at IS NULL OR expires_at > $3)`,
      [grantId, accountId, this.clock.date()],
    );
    if (rows.length === 0) return false;
    const Adapter = postgresAdapter(this.db, this.clock);
    await new Adapter('Grant').revokeByGrantId(grantId);
    return true;
  }

  /** When this replica last noted each grant's use: a grant used within the minute costs no query at all. */
  private readonly noted = new Map<string, number>();

  /** Notes that a grant was used now, unless that was noted within the last minute (no write then). */
  async touch(grantId: string): Promise<void> {
    if (!grantId || grantId.includes('\u0000')) return;
    const now = this.clock.date();
    const last = this.noted.get(grantId);
    if (last !== undefined && now.getTime() - last < GRANT_LAST_USED_WRITE_INTERVAL_MS) return;
    // Bounded: forgetting only costs a query that writes nothing.
    if (this.noted.size >= 10_000) this.noted.clear();
    this.noted.set(grantId, now.getTime());
    await this.db.query(
      `UPDATE auth.oidc_payloads SET last_used_at = $2
       WHERE kind = 'Grant' AND id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`,
      [grantId, now, new Date(now.getTime() - GRANT_LAST_USED_WRITE_INTERVAL_MS)],
    );
  }
}
