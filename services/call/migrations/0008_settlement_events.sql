-- The call's timeline holds two kinds of event: a status change, and the settlement of its credits
-- (its own sequence number, after the terminal status), so a watcher waits on the settlement as it
-- waits on a status. The ConversationRelay is a source too: its connection says the call was answered.
ALTER TABLE calls.call_events ADD COLUMN kind text NOT NULL DEFAULT 'status' CHECK (kind IN ('status', 'settlement'));
ALTER TABLE calls.call_events ADD COLUMN cost_credits bigint NOT NULL DEFAULT 0;
ALTER TABLE calls.call_events DROP CONSTRAINT call_events_source_check;
ALTER TABLE calls.call_events ADD CONSTRAINT call_events_source_check
  CHECK (source IN ('api', 'callback', 'poll', 'relay', 'system'));
