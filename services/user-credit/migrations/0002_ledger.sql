-- Users, their preferences and the credit ledger.
-- Money is integer credits (bigint), never floats. The ledger (entries) is append-only and is the truth;
-- accounts caches its sums per user so a reservation can lock one row, and the ledger check rebuilds it.

CREATE TABLE credits.users (
  user_id text PRIMARY KEY CHECK (length(user_id) BETWEEN 1 AND 255),
  display_name text NOT NULL DEFAULT '',
  email text NOT NULL DEFAULT '',
  organization text NOT NULL DEFAULT '',
  plan text NOT NULL DEFAULT 'free',
  -- Numbers this user may use as caller id, besides the account's own.
  caller_ids text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL
);

-- NULL means "the default from configuration", so a changed default reaches everyone who never chose.
CREATE TABLE credits.preferences (
  user_id text PRIMARY KEY REFERENCES credits.users (user_id),
  default_voice text,
  default_model text,
  language text,
  caller_id text,
  max_call_duration_seconds integer,
  recording_enabled boolean,
  timezone text,
  quiet_start text,
  quiet_end text,
  max_concurrent_calls integer,
  updated_at timestamptz NOT NULL
);

CREATE TABLE credits.accounts (
  user_id text PRIMARY KEY REFERENCES credits.users (user_id),
  available bigint NOT NULL CHECK (available >= 0),
  held bigint NOT NULL CHECK (held >= 0),
  debt bigint NOT NULL CHECK (debt >= 0),
  updated_at timestamptz NOT NULL
);

CREATE TABLE credits.reservations (
  reservation_id uuid PRIMARY KEY,
  user_id text NOT NULL REFERENCES credits.users (user_id),
  amount bigint NOT NULL CHECK (amount > 0),
  status text NOT NULL CHECK (status IN ('held', 'settled', 'released', 'expired')),
  call_id text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  closed_at timestamptz,
  charged bigint NOT NULL DEFAULT 0,
  released bigint NOT NULL DEFAULT 0,
  debt bigint NOT NULL DEFAULT 0
);
CREATE INDEX reservations_expiring ON credits.reservations (expires_at) WHERE status = 'held';
CREATE INDEX reservations_by_user ON credits.reservations (user_id, created_at DESC);

CREATE TABLE credits.entries (
  entry_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id text NOT NULL REFERENCES credits.users (user_id),
  kind text NOT NULL CHECK (kind IN ('grant', 'reserve', 'settle', 'release', 'expire', 'adjust')),
  -- Signed changes to the three balances; their sums per user are the account.
  available_change bigint NOT NULL,
  held_change bigint NOT NULL,
  debt_change bigint NOT NULL,
  -- Credits this entry charged for a call (settle only).
  charged bigint NOT NULL DEFAULT 0 CHECK (charged >= 0),
  reservation_id uuid REFERENCES credits.reservations (reservation_id),
  call_id text NOT NULL DEFAULT '',
  -- The call id or grant id this entry belongs to.
  reference text NOT NULL,
  idempotency_key text NOT NULL,
  actor text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL
);
CREATE INDEX entries_by_user ON credits.entries (user_id, entry_id DESC);
CREATE INDEX entries_by_call ON credits.entries (user_id, call_id) WHERE call_id <> '';
-- At most one settle and one return of the hold (release or expire) per reservation, whatever the callers do.
-- A settle may follow an expire: the call did happen, so it is charged from available credits.
CREATE UNIQUE INDEX entries_one_settle ON credits.entries (reservation_id) WHERE kind = 'settle';
CREATE UNIQUE INDEX entries_one_return ON credits.entries (reservation_id) WHERE kind IN ('release', 'expire');

CREATE FUNCTION credits.ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'credits.entries is append-only: correct a mistake with an adjust entry';
END
$$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON credits.entries
  FOR EACH ROW EXECUTE FUNCTION credits.ledger_is_append_only();

-- One row per idempotency key: the first request's fingerprint and its result, returned to every retry.
CREATE TABLE credits.idempotency (
  scope text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  response jsonb,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
