-- Exchange rates (issue 26): a tenant's own, and the global defaults (tenant_id NULL) every
-- tenant reads and only the operator's `rates` scope writes. 1 base = rate quote on rate_date.
CREATE TABLE exchange_rates (
    tenant_id   uuid REFERENCES tenants (id) ON DELETE CASCADE,
    base        text NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
    quote       text NOT NULL CHECK (quote ~ '^[A-Z]{3}$' AND quote <> base),
    rate_date   date NOT NULL,
    rate        numeric(24, 12) NOT NULL CHECK (rate > 0),
    source      text NOT NULL CHECK (length(source) BETWEEN 1 AND 50),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX exchange_rates_own ON exchange_rates (tenant_id, rate_date, base, quote)
    WHERE tenant_id IS NOT NULL;
CREATE UNIQUE INDEX exchange_rates_shared ON exchange_rates (rate_date, base, quote)
    WHERE tenant_id IS NULL;

CREATE FUNCTION valorize_rates_scope() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('valorize.scope', true), '') = 'rates'
$$;

ALTER TABLE exchange_rates ENABLE ROW LEVEL SECURITY;
ALTER TABLE exchange_rates FORCE ROW LEVEL SECURITY;
CREATE POLICY rates_read ON exchange_rates FOR SELECT
    USING (tenant_id = valorize_tenant() OR tenant_id IS NULL);
CREATE POLICY rates_write ON exchange_rates
    USING (tenant_id = valorize_tenant() OR (tenant_id IS NULL AND valorize_rates_scope()))
    WITH CHECK (tenant_id = valorize_tenant() OR (tenant_id IS NULL AND valorize_rates_scope()));

-- Lists filtered by tag (`tags && …`, `tags @> …`).
CREATE INDEX transactions_tags ON transactions USING gin (tags);
