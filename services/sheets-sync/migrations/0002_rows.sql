-- One row per call: the durable write queue and outbox at once. UpsertCallRow merges into it before it
-- acknowledges (so nothing is lost on a crash), keeping only the highest version; the writer picks rows
-- whose written_version is behind, so several updates of one call coalesce into one write by construction.
CREATE TABLE IF NOT EXISTS sheets.rows (
  call_id text PRIMARY KEY,
  version bigint NOT NULL,
  -- The CallRow fields (not the rendered cells): the column layout is configuration, applied at write time.
  cells jsonb NOT NULL,
  terminal boolean NOT NULL DEFAULT false,
  -- The row's number in the sheet once appended (learnt from the append's updatedRange); NULL = not yet.
  sheet_row_number integer,
  written_version bigint NOT NULL DEFAULT 0,
  -- An append was sent but its outcome is unknown (crash, timeout, 5xx): before appending again the writer
  -- looks the call id up in the sheet's id column, so an append that did land is never repeated.
  append_pending boolean NOT NULL DEFAULT false,
  -- The version that unsure append carried: when the look-up finds the row, that version is in the sheet.
  append_version bigint,
  -- When the row became dirty (the oldest unwritten change): flush by age and order within a priority.
  dirty_since timestamptz,
  updated_at timestamptz NOT NULL,
  -- A replica writing the row holds it until lease_until, so two replicas never write one row at once.
  lease_owner text,
  lease_until timestamptz,
  failed_attempts integer NOT NULL DEFAULT 0,
  last_error text
);

CREATE INDEX IF NOT EXISTS rows_dirty ON sheets.rows (terminal DESC, dirty_since) WHERE written_version < version;
