-- The auth service's schema: accounts, the authorization server's records (grants, codes, refresh
-- tokens, sessions, registered clients), one-time links, the mail outbox, sign-in attempts and
-- personal access tokens. Nobody else reads it: the gateway asks over gRPC.
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE auth.accounts (
  account_id      text PRIMARY KEY,
  -- Lower-cased once, on the way in: one account per address whatever its case.
  email           text NOT NULL UNIQUE,
  password_hash   text NOT NULL,
  email_verified_at timestamptz,
  created_at      timestamptz NOT NULL,
  -- Tokens issued before this moment are refused (sign-out everywhere, password reset).
  tokens_valid_after timestamptz NOT NULL,
  -- Consecutive failed sign-ins and the lockout they caused.
  failed_sign_ins integer NOT NULL DEFAULT 0,
  locked_until    timestamptz
);

-- oidc-provider's models (Grant, AuthorizationCode, RefreshToken, Session, Interaction, Client, ...),
-- one row per model instance, the payload as oidc-provider gives it.
CREATE TABLE auth.oidc_payloads (
  kind        text NOT NULL,
  id          text NOT NULL,
  payload     jsonb NOT NULL,
  grant_id    text,
  user_code   text,
  uid         text,
  account_id  text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (kind, id)
);
CREATE INDEX oidc_payloads_grant ON auth.oidc_payloads (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_payloads_uid ON auth.oidc_payloads (uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_payloads_account ON auth.oidc_payloads (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX oidc_payloads_expiry ON auth.oidc_payloads (expires_at) WHERE expires_at IS NOT NULL;

-- Links sent by mail (verify an address, reset a password): only the hash of the secret is kept.
CREATE TABLE auth.one_time_links (
  token_hash  text PRIMARY KEY,
  account_id  text NOT NULL REFERENCES auth.accounts (account_id) ON DELETE CASCADE,
  purpose     text NOT NULL CHECK (purpose IN ('verify-email', 'reset-password')),
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);

-- Mail to send: written in the transaction that decides to send it, delivered by the drainer.
CREATE TABLE auth.mail_outbox (
  id          bigserial PRIMARY KEY,
  recipient   text NOT NULL,
  subject     text NOT NULL,
  body_text   text NOT NULL,
  created_at  timestamptz NOT NULL,
  attempts    integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  sent_at     timestamptz,
  last_error  text
);
CREATE INDEX mail_outbox_pending ON auth.mail_outbox (next_attempt_at) WHERE sent_at IS NULL;

-- Sign-in attempts per client address and per account in fixed windows: the limits against guessing.
CREATE TABLE auth.attempts (
  bucket       text NOT NULL,
  window_start timestamptz NOT NULL,
  count        integer NOT NULL,
  PRIMARY KEY (bucket, window_start)
);

-- Personal access tokens: shown once, only the hash kept.
CREATE TABLE auth.personal_tokens (
  token_id    text PRIMARY KEY,
  account_id  text NOT NULL REFERENCES auth.accounts (account_id) ON DELETE CASCADE,
  name        text NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  scopes      text[] NOT NULL,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  last_used_at timestamptz
);
CREATE INDEX personal_tokens_account ON auth.personal_tokens (account_id);
