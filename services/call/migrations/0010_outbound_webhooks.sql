-- Outbound webhooks: endpoints users register, the events of their calls, and each event's delivery to
-- each endpoint (the delivery log). Events are created by the database in the same transaction as the
-- call transition that causes them, so an accepted move of the state machine yields its event exactly
-- once (never for a duplicate or late report, which inserts no call event) and never loses it to a crash.

CREATE TABLE calls.webhook_endpoints (
  endpoint_id uuid PRIMARY KEY,
  user_id text NOT NULL,
  url text NOT NULL,
  events text[] NOT NULL,
  description text NOT NULL DEFAULT '',
  -- The HMAC key of the Callgate-Signature header: the receiver holds the same one, so it is kept (the
  -- database is encrypted at rest), never logged, and shown to the user only when created.
  secret text NOT NULL,
  created_at timestamptz NOT NULL,
  deleted_at timestamptz
);
CREATE INDEX webhook_endpoints_by_user ON calls.webhook_endpoints (user_id, created_at DESC) WHERE deleted_at IS NULL;

CREATE TABLE calls.webhook_events (
  -- md5(call_id || '/' || type) as a uuid: a call makes each transition once, so a replay of the same
  -- transition (a duplicate callback, a retried settlement) names the same event.
  event_id uuid PRIMARY KEY,
  call_id uuid NOT NULL REFERENCES calls.calls (call_id),
  user_id text NOT NULL,
  type text NOT NULL,
  created_at timestamptz NOT NULL,
  -- The JSON body, rendered once (services/call/src/outbound-webhooks/relay.ts) so that every attempt and
  -- every replay sends the same bytes; null until then.
  body text
);

CREATE TABLE calls.webhook_deliveries (
  delivery_id uuid PRIMARY KEY,
  event_id uuid NOT NULL REFERENCES calls.webhook_events (event_id),
  endpoint_id uuid NOT NULL REFERENCES calls.webhook_endpoints (endpoint_id),
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'retrying', 'delivered', 'dead-lettered', 'canceled')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  last_status_code integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  created_at timestamptz NOT NULL,
  delivered_at timestamptz,
  -- Handed to the SQS delivery queue (the relay); until then a relay that claims it holds a lease.
  enqueued_at timestamptz,
  enqueue_lease_until timestamptz,
  UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_by_endpoint ON calls.webhook_deliveries (endpoint_id, created_at DESC, delivery_id DESC);
CREATE INDEX webhook_deliveries_to_enqueue ON calls.webhook_deliveries (created_at) WHERE enqueued_at IS NULL;

-- The one place an event is made and fanned out to the user's endpoints that subscribed to its type:
-- the transition trigger below calls it, and so does the call service for events that are not call
-- transitions (recording.ready: outbound-webhooks/emit.ts). A second call for the same event does nothing.
CREATE FUNCTION calls.emit_webhook_event(p_call_id uuid, p_type text, p_at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_event uuid := md5(p_call_id::text || '/' || p_type)::uuid;
  v_user text;
BEGIN
  SELECT user_id INTO v_user FROM calls.calls WHERE call_id = p_call_id;
  IF v_user IS NULL THEN
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

-- Which call events are webhook events: the answer (the in-progress status) is call.answered; the end is
-- announced with the call's settlement (its own event, once per call, right after the final status), so
-- the call in the body carries its final cost: call.completed, call.busy, call.no-answer, call.failed,
-- call.canceled.
CREATE FUNCTION calls.webhook_event_of_call_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.kind = 'status' AND NEW.status = 'in-progress' THEN
    PERFORM calls.emit_webhook_event(NEW.call_id, 'call.answered', NEW.recorded_at);
  ELSIF NEW.kind = 'settlement' THEN
    PERFORM calls.emit_webhook_event(NEW.call_id, 'call.' || NEW.status, NEW.recorded_at);
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER call_events_webhooks AFTER INSERT ON calls.call_events
  FOR EACH ROW EXECUTE FUNCTION calls.webhook_event_of_call_event();
