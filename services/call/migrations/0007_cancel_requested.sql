-- When the user asked to cancel the call (cancelCall, or cancelling its MCP task). A call hung up on
-- request ends "completed" in the carrier's terms; this is what says it was cancelled, whichever of
-- the carrier's callback and the API's answer is recorded first.
ALTER TABLE calls.calls ADD COLUMN cancel_requested_at timestamptz;
