-- The append-only rule covers TRUNCATE too (the row triggers of 0002 never see it).
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON credits.entries
  FOR EACH STATEMENT EXECUTE FUNCTION credits.ledger_is_append_only();
