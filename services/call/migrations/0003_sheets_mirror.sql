-- The call's sheet row version (grows with every status change, and once more when its cost is settled)
-- and the last version sheets-sync acknowledged: a call whose row is ahead is pushed again.
ALTER TABLE calls.calls ADD COLUMN row_version bigint NOT NULL DEFAULT 2;
ALTER TABLE calls.calls ADD COLUMN sheets_version bigint NOT NULL DEFAULT 0;
CREATE INDEX calls_sheets_behind ON calls.calls (updated_at) WHERE sheets_version < row_version;
