-- The conversation of each call: every turn as it was spoken, and what was learned at the end.

CREATE TABLE calls.transcript_turns (
  call_id uuid NOT NULL REFERENCES calls.calls (call_id),
  -- Order within the call, from 1; WatchCall streams turns after a given one.
  turn_seq integer NOT NULL,
  speaker text NOT NULL CHECK (speaker IN ('agent', 'callee')),
  text text NOT NULL,
  started_at timestamptz NOT NULL,
  -- The agent was interrupted: text is what was spoken until then.
  interrupted boolean NOT NULL DEFAULT false,
  PRIMARY KEY (call_id, turn_seq)
);

-- One outcome per call, written once when the conversation ends (a retry changes nothing).
CREATE TABLE calls.call_outcomes (
  call_id uuid PRIMARY KEY REFERENCES calls.calls (call_id),
  fields jsonb NOT NULL,
  missing_fields text[] NOT NULL,
  summary text NOT NULL,
  objective_reached boolean NOT NULL,
  -- Why the conversation ended: objective, callee-hung-up, turn-limit, time-limit, error.
  end_reason text NOT NULL,
  recorded_at timestamptz NOT NULL
);
