-- The directory may list a user's memberships across tenants (the CLI, and choosing a tenant
-- at sign-in), in the same narrow scope as token and e-mail lookups.
DROP POLICY tenant_isolation ON memberships;
CREATE POLICY tenant_isolation ON memberships
    USING (tenant_id = valorize_tenant() OR valorize_directory_scope())
    WITH CHECK (tenant_id = valorize_tenant());

DROP POLICY tenant_isolation ON tenants;
CREATE POLICY tenant_isolation ON tenants
    USING (id = valorize_tenant() OR valorize_directory_scope())
    WITH CHECK (id = valorize_tenant());
