-- Lockout per (account, client address): wrong passwords from one address lock that address out of
-- the account, never the owner at another address (accounts.ts says why). Replaces the account-wide
-- counter and lock.
CREATE TABLE auth.sign_in_failures (
  account_id   text NOT NULL REFERENCES auth.accounts (account_id) ON DELETE CASCADE,
  address      text NOT NULL,
  failed       integer NOT NULL,
  locked_until timestamptz,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (account_id, address)
);
CREATE INDEX sign_in_failures_updated ON auth.sign_in_failures (updated_at);

ALTER TABLE auth.accounts DROP COLUMN failed_sign_ins, DROP COLUMN locked_until;
