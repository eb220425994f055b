-- The poller's stale-call sweep (ListStaleCalls) reads non-terminal dialled calls by age.
CREATE INDEX calls_stale ON calls.calls (updated_at)
  WHERE status IN ('queued', 'initiated', 'ringing', 'in-progress') AND carrier_call_id IS NOT NULL;
