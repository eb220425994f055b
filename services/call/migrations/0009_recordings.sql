-- Recordings of calls (issue 22): whether a call is recorded, each recording's way from the carrier to
-- S3 (fetched with retries, then deleted at the carrier), and deletion on request or by retention.

-- makePhoneCall's record, else the user's recordingEnabled preference, as the call was placed.
ALTER TABLE calls.calls ADD COLUMN record boolean NOT NULL DEFAULT false;
-- When the call's transcript (turns, outcome summary and fields) was deleted, on request or by retention.
ALTER TABLE calls.calls ADD COLUMN transcript_deleted_at timestamptz;
-- The retention job finds ended calls whose transcript is past its time by this.
CREATE INDEX calls_transcript_retention ON calls.calls (ended_at) WHERE transcript_deleted_at IS NULL AND ended_at IS NOT NULL;

-- One recording per call (Twilio makes one per call with record=true).
CREATE TABLE calls.recordings (
  call_id uuid PRIMARY KEY REFERENCES calls.calls (call_id),
  user_id text NOT NULL,
  -- Twilio's RecordingSid (RE + 32 hex digits).
  recording_sid text NOT NULL UNIQUE,
  -- processing: to fetch (next_attempt_at says when); ready: in S3; failed: fetching gave up (the carrier
  -- still holds it); absent: the carrier made none; deleted: on request or by retention.
  status text NOT NULL CHECK (status IN ('processing', 'ready', 'failed', 'absent', 'deleted')),
  duration_seconds integer NOT NULL DEFAULT 0,
  channels integer NOT NULL DEFAULT 1,
  attempts integer NOT NULL DEFAULT 0,
  -- When a fetch (or the carrier-side delete after it) is next due; also a claim: a worker that takes the
  -- row moves it forward, so two replicas never fetch one recording at once.
  next_attempt_at timestamptz,
  last_error text NOT NULL DEFAULT '',
  object_key text,
  content_type text,
  size_bytes bigint,
  reported_at timestamptz NOT NULL,
  stored_at timestamptz,
  -- Set once the carrier's copy is deleted (after it is stored); null while it still has one.
  carrier_deleted_at timestamptz,
  deleted_at timestamptz,
  -- 'request' or 'retention'.
  deleted_by text
);
CREATE INDEX recordings_due ON calls.recordings (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX recordings_retention ON calls.recordings (stored_at) WHERE status = 'ready';

-- Named leases: one replica at a time runs a job (the retention job), as the poller's sweep does.
CREATE TABLE calls.leases (
  name text PRIMARY KEY,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);
