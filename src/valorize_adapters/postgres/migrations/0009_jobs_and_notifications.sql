-- Jobs: background work a client asked for (rule apply, report generation) and its result,
-- written in the same transaction as the job's effects.
CREATE TABLE jobs (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('apply_rules', 'generate_report')),
    status          text NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    params          jsonb NOT NULL DEFAULT '{}',
    result          jsonb,
    error           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    CHECK ((status = 'pending') = (completed_at IS NULL))
);

-- Notifications for a tenant's people, newest first; one per causing event (the id says which).
CREATE TABLE notifications (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    kind            text NOT NULL,
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body            text NOT NULL CHECK (length(body) <= 2000),
    data            jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL,
    read_at         timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notifications_newest ON notifications (tenant_id, created_at DESC, id DESC);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['jobs', 'notifications'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = valorize_tenant()) '
            'WITH CHECK (tenant_id = valorize_tenant())', t);
    END LOOP;
END
$$;

-- Imports count the pending transactions a statement found posted.
ALTER TABLE imports ADD COLUMN updated integer NOT NULL DEFAULT 0 CHECK (updated >= 0);
