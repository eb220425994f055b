-- Refreshes of each call: a message enqueued before the last refresh of its call asks a question
-- already answered (a duplicate). claimed_until marks a refresh in progress, so replicas do not refresh
-- one call twice at once; it expires, so a killed poller's claim does not block the redelivered message.
CREATE TABLE poller.refreshed (
  call_id uuid PRIMARY KEY,
  refreshed_at timestamptz,
  claimed_by text,
  claimed_until timestamptz
);
CREATE INDEX refreshed_by_time ON poller.refreshed (refreshed_at);

-- Leases (the stale-call sweep's): one holder until expires_at; renewed by the holder, taken when expired.
CREATE TABLE poller.leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- Where a sweep stands, saved after every batch, so a restart resumes instead of starting over.
CREATE TABLE poller.sweep_checkpoints (
  name text PRIMARY KEY,
  -- Empty when no sweep is running (the next one starts from the most urgent call).
  cursor text NOT NULL DEFAULT '',
  -- The sweep's definition of stale, fixed for the whole sweep so the cursor stays meaningful.
  updated_before timestamptz,
  started_at timestamptz,
  enqueued bigint NOT NULL DEFAULT 0,
  batches integer NOT NULL DEFAULT 0,
  backlog bigint NOT NULL DEFAULT 0,
  saved_at timestamptz NOT NULL,
  last_completed_at timestamptz,
  last_duration_ms integer
);
