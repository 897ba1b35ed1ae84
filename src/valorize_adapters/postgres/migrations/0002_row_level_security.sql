-- Tenant isolation in depth: every tenant table only shows rows of the tenant named by the
-- transaction-local setting valorize.tenant_id, even to a query that forgets its filter.
-- FORCE applies the policies to the table owner too; only superusers bypass them, so the
-- application connects as (or SET ROLEs to) valorize_app.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'valorize_app') THEN
        CREATE ROLE valorize_app NOLOGIN;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'cannot create role valorize_app; connect as the (non-superuser) schema owner';
END
$$;

CREATE FUNCTION valorize_tenant() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('valorize.tenant_id', true), '')::uuid
$$;

-- Authentication and signup look up tokens and e-mails before a tenant is known; only the
-- directory scope may see across tenants, and only on these two tables.
CREATE FUNCTION valorize_directory_scope() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('valorize.scope', true), '') = 'directory'
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'memberships', 'accounts', 'categories', 'imports', 'transactions', 'splits', 'budgets',
        'budget_announcements', 'rules', 'payee_memory', 'outbox', 'idempotency_keys',
        'processed_tasks', 'labeled_examples'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = valorize_tenant()) '
            'WITH CHECK (tenant_id = valorize_tenant())', t);
    END LOOP;
END
$$;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (id = valorize_tenant()) WITH CHECK (id = valorize_tenant());

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = valorize_tenant() OR valorize_directory_scope()
           OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id))
    WITH CHECK (tenant_id = valorize_tenant());

ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_tokens
    USING (tenant_id = valorize_tenant() OR valorize_directory_scope())
    WITH CHECK (tenant_id = valorize_tenant());

-- The relay reads the outbox of every tenant.
CREATE FUNCTION valorize_relay_scope() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('valorize.scope', true), '') = 'relay'
$$;
DROP POLICY tenant_isolation ON outbox;
CREATE POLICY tenant_isolation ON outbox
    USING (tenant_id = valorize_tenant() OR valorize_relay_scope())
    WITH CHECK (tenant_id = valorize_tenant() OR valorize_relay_scope());

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'valorize_app') THEN
        EXECUTE 'GRANT USAGE ON SCHEMA public TO valorize_app';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO valorize_app';
        EXECUTE 'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO valorize_app';
        EXECUTE 'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO valorize_app';
        EXECUTE 'REVOKE ALL ON schema_migrations FROM valorize_app';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO valorize_app';
        EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO valorize_app';
    END IF;
END
$$;
