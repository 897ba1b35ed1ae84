-- Outbound webhooks: a tenant's endpoints and the deliveries of events to them (the delivery
-- log). A delivery's id derives from its endpoint and event, so an event is delivered to an
-- endpoint once; it goes with its endpoint.
CREATE TABLE webhook_endpoints (
    tenant_id            uuid NOT NULL REFERENCES tenants (id),
    id                   uuid NOT NULL,
    url                  text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    event_types          text[] NOT NULL CHECK (cardinality(event_types) > 0),
    secret               text NOT NULL,
    previous_secret      text,
    previous_valid_until timestamptz,
    enabled              boolean NOT NULL DEFAULT true,
    disabled_reason      text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
    tenant_id        uuid NOT NULL,
    id               uuid NOT NULL,
    endpoint_id      uuid NOT NULL,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz,
    last_attempt_at  timestamptz,
    response_status  integer,
    response_body    text NOT NULL DEFAULT '' CHECK (length(response_body) <= 1000),
    error            text NOT NULL DEFAULT '',
    redeliveries     integer NOT NULL DEFAULT 0 CHECK (redeliveries >= 0),
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, endpoint_id, event_id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_newest ON webhook_deliveries (tenant_id, endpoint_id, created_at DESC, id DESC);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['webhook_endpoints', 'webhook_deliveries'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = valorize_tenant()) '
            'WITH CHECK (tenant_id = valorize_tenant())', t);
    END LOOP;
END
$$;
