-- When a grant was last used at the gateway (its access tokens checked by CheckAccess), to the minute:
-- the console shows people which connected apps they still use. Personal tokens have last_used_at already.
ALTER TABLE auth.oidc_payloads ADD COLUMN IF NOT EXISTS last_used_at timestamptz;
-- The apps:manage listing reads a person's grants by account.
CREATE INDEX IF NOT EXISTS oidc_payloads_grants_by_account ON auth.oidc_payloads (account_id) WHERE kind = 'Grant';
