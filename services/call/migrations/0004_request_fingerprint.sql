-- The fingerprint of the PlaceCall request that created the call: the same idempotency key with a
-- different request is refused instead of silently answered with the first call.
ALTER TABLE calls.calls ADD COLUMN request_hash text NOT NULL DEFAULT '';
