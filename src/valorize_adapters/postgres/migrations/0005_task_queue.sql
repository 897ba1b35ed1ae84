-- The local durable task queue (embedded runs; production uses Cloud Tasks) and its dead letters.
CREATE TABLE task_queue (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    name        text NOT NULL,
    payload     jsonb NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    not_before  timestamptz NOT NULL,
    locked_until timestamptz,
    last_error  text,
    created_at  timestamptz NOT NULL
);
CREATE INDEX task_queue_due ON task_queue (not_before);

CREATE TABLE dead_letters (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    name        text NOT NULL,
    payload     jsonb NOT NULL,
    attempts    integer NOT NULL,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL,
    died_at     timestamptz NOT NULL
);
CREATE INDEX dead_letters_tenant ON dead_letters (tenant_id, died_at);

-- The dispatcher serves every tenant; these tables are reachable only in its scope (or for
-- enqueuing a tenant's own task).
CREATE FUNCTION valorize_dispatcher_scope() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('valorize.scope', true), '') = 'dispatcher'
$$;
ALTER TABLE task_queue ENABLE ROW LEVEL SECURITY;
ALTER TABLE task_queue FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON task_queue
    USING (tenant_id = valorize_tenant() OR valorize_dispatcher_scope())
    WITH CHECK (tenant_id = valorize_tenant() OR valorize_dispatcher_scope());
ALTER TABLE dead_letters ENABLE ROW LEVEL SECURITY;
ALTER TABLE dead_letters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON dead_letters
    USING (tenant_id = valorize_tenant() OR valorize_dispatcher_scope())
    WITH CHECK (tenant_id = valorize_tenant() OR valorize_dispatcher_scope());
