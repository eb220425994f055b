-- An event is recorded only when one of the user's endpoints subscribed to its type: a user without webhooks
-- (most) costs no write per transition, and no rendered body (a copy of the call, transcript included)
-- is kept for nobody. The id stays derived from the call and the type, so a replay is still the same event.
CREATE OR REPLACE FUNCTION calls.emit_webhook_event(p_call_id uuid, p_type text, p_at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_event uuid := md5(p_call_id::text || '/' || p_type)::uuid;
  v_user text;
BEGIN
  SELECT user_id INTO v_user FROM calls.calls WHERE call_id = p_call_id;
  IF v_user IS NULL THEN
    RETURN;
  END IF;
  PERFORM 1 FROM calls.webhook_endpoints e
    WHERE e.user_id = v_user AND e.deleted_at IS NULL AND p_type = ANY (e.events);
  IF NOT FOUND THEN
    RETURN;
  END IF;
  INSERT INTO calls.webhook_events (event_id, call_id, user_id, type, created_at)
    VALUES (v_event, p_call_id, v_user, p_type, p_at)
    ON CONFLICT (event_id) DO NOTHING;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  INSERT INTO calls.webhook_deliveries (delivery_id, event_id, endpoint_id, created_at)
    SELECT md5(v_event::text || '/' || e.endpoint_id::text)::uuid, v_event, e.endpoint_id, p_at
    FROM calls.webhook_endpoints e
    WHERE e.user_id = v_user AND e.deleted_at IS NULL AND p_type = ANY (e.events);
  IF FOUND THEN
    -- Delivered on commit: the relay of every replica wakes (one claims each delivery).
    PERFORM pg_notify('webhook_deliveries', v_event::text);
  END IF;
END $$;
