-- Calls, their timelines, and the raw carrier callbacks.

CREATE TABLE calls.calls (
  call_id uuid PRIMARY KEY,
  user_id text NOT NULL,
  -- The same key from the same user is the same call (PlaceCall is idempotent by it).
  idempotency_key text NOT NULL,
  to_number text NOT NULL,
  from_number text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'initiated', 'ringing', 'in-progress', 'completed', 'busy', 'no-answer', 'failed', 'canceled')),
  -- Where dialling stands: pending (intent recorded, carrier not asked), dialing (asked, answer unknown),
  -- dialed (the carrier took it), refused (the carrier said no), canceled (canceled before dialling).
  dial_state text NOT NULL CHECK (dial_state IN ('pending', 'dialing', 'dialed', 'refused', 'canceled')),
  dial_started_at timestamptz,
  task text NOT NULL,
  first_message text NOT NULL,
  voice text NOT NULL,
  model text NOT NULL,
  language text NOT NULL,
  max_duration_seconds integer NOT NULL,
  machine_detection boolean NOT NULL,
  outcome_schema_json text NOT NULL DEFAULT '',
  metadata jsonb NOT NULL DEFAULT '{}',
  credits_per_minute integer NOT NULL,
  reservation_id uuid NOT NULL,
  reserved_credits bigint NOT NULL,
  carrier_call_id text UNIQUE,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  answered_at timestamptz,
  ended_at timestamptz,
  duration_seconds integer NOT NULL DEFAULT 0,
  answered_by text NOT NULL DEFAULT '',
  error_code text NOT NULL DEFAULT '',
  error_message text NOT NULL DEFAULT '',
  -- Credits: none until the call ends; then settled (charged) or released, exactly once (keys at user-credit).
  settlement text NOT NULL DEFAULT 'open' CHECK (settlement IN ('open', 'pending', 'settled', 'released')),
  cost_credits bigint NOT NULL DEFAULT 0,
  last_sequence bigint NOT NULL DEFAULT 0,
  UNIQUE (user_id, idempotency_key)
);
CREATE INDEX calls_by_user ON calls.calls (user_id, created_at DESC, call_id DESC);
CREATE INDEX calls_active ON calls.calls (user_id) WHERE status IN ('queued', 'initiated', 'ringing', 'in-progress');
CREATE INDEX calls_dial_unsettled ON calls.calls (dial_state, created_at) WHERE dial_state IN ('pending', 'dialing');
CREATE INDEX calls_settlement_pending ON calls.calls (updated_at) WHERE settlement = 'pending';

-- The timeline: every status change the call went through, in order.
CREATE TABLE calls.call_events (
  call_id uuid NOT NULL REFERENCES calls.calls (call_id),
  sequence bigint NOT NULL,
  status text NOT NULL,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  source text NOT NULL CHECK (source IN ('api', 'callback', 'poll', 'system')),
  detail text NOT NULL DEFAULT '',
  PRIMARY KEY (call_id, sequence)
);

-- Every status callback as received, applied or not (duplicates, late arrivals): for audits and support.
CREATE TABLE calls.carrier_callbacks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  call_id uuid,
  carrier_call_id text NOT NULL,
  carrier_status text NOT NULL,
  carrier_sequence integer,
  params jsonb NOT NULL,
  applied boolean NOT NULL,
  received_at timestamptz NOT NULL
);
CREATE INDEX carrier_callbacks_by_call ON calls.carrier_callbacks (call_id, id);
