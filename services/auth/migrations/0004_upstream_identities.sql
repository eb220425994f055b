-- Sign-in with an upstream OpenID Connect provider (Google, …): the provider's stable subject (`sub`)
-- of a person, linked to their account. One account may have several; one (provider, subject) belongs to
-- one account. Goes with the account (account deletion deletes them, the foreign key too).
CREATE TABLE auth.upstream_identities (
  provider    text NOT NULL,
  subject     text NOT NULL,
  account_id  text NOT NULL REFERENCES auth.accounts (account_id) ON DELETE CASCADE,
  -- The address the provider vouched for when the identity was linked (for the person and support).
  email       text NOT NULL,
  linked_at   timestamptz NOT NULL,
  last_used_at timestamptz NOT NULL,
  PRIMARY KEY (provider, subject)
);
CREATE INDEX upstream_identities_account ON auth.upstream_identities (account_id);

-- An authorization request sent to an upstream provider and not yet answered: what the callback checks
-- the answer against (state, nonce, PKCE verifier) and the sign-in it belongs to. Keyed by the hash of
-- the state; deleted when the answer comes (single use) or when it expires.
CREATE TABLE auth.upstream_requests (
  state_hash    text PRIMARY KEY,
  provider      text NOT NULL,
  interaction   text NOT NULL,
  nonce         text NOT NULL,
  code_verifier text NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX upstream_requests_expiry ON auth.upstream_requests (expires_at);

-- An account made by signing in with a provider has no password until its owner sets one (a reset by
-- mail); password sign-in to it fails like a wrong password.
ALTER TABLE auth.accounts ALTER COLUMN password_hash DROP NOT NULL;
