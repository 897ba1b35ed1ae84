-- Retention: the rows that only grow are pruned on a schedule (valorize_adapters/postgres/retention.py).
-- The pruner works across tenants in its own row-security scope, which may read and delete
-- these tables' rows and nothing else: WITH CHECK (false) refuses any insert or update in it.
CREATE FUNCTION valorize_retention_scope() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('valorize.scope', true), '') = 'retention'
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['outbox', 'processed_tasks', 'idempotency_keys', 'jobs', 'dead_letters'] LOOP
        EXECUTE format(
            'CREATE POLICY retention ON %I USING (valorize_retention_scope()) WITH CHECK (false)', t);
    END LOOP;
END
$$;

-- What each prune looks for, oldest first, without reading the tables whole.
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX processed_tasks_age ON processed_tasks (processed_at);
CREATE INDEX jobs_finished ON jobs (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX dead_letters_age ON dead_letters (died_at);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'valorize_app') THEN
        EXECUTE 'GRANT EXECUTE ON FUNCTION valorize_retention_scope() TO valorize_app';
    END IF;
END
$$;
