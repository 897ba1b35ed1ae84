-- Subscriptions found in the history that a person confirmed (a schedule posts them; price
-- rises and stops are announced once) or dismissed (not proposed again). The id derives from
-- the tenant, account and payee key, so the same payee found again is the same subscription.
CREATE TABLE subscriptions (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    account_id      uuid NOT NULL,
    payee_key       text NOT NULL CHECK (length(payee_key) BETWEEN 1 AND 500),
    payee           text NOT NULL CHECK (length(payee) <= 200),
    cadence         text NOT NULL CHECK (cadence IN ('weekly', 'monthly', 'yearly')),
    amount_minor    bigint NOT NULL,
    currency        text NOT NULL,
    status          text NOT NULL CHECK (status IN ('confirmed', 'dismissed')),
    last_charged    date NOT NULL,
    decided_at      timestamptz NOT NULL,
    schedule_id     uuid,
    stopped_on      date,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, account_id, payee_key),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES schedules (tenant_id, id) ON DELETE SET NULL (schedule_id)
);

ALTER TABLE subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON subscriptions
    USING (tenant_id = valorize_tenant()) WITH CHECK (tenant_id = valorize_tenant());

-- Low-balance alerts: a threshold a person set on an account (without one, zero over 30 days),
-- and which projected dips were announced (once per account, first day below and threshold).
CREATE TABLE balance_alerts (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    account_id      uuid NOT NULL,
    threshold_minor bigint NOT NULL,
    days            integer NOT NULL CHECK (days BETWEEN 1 AND 366),
    PRIMARY KEY (tenant_id, account_id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE TABLE balance_alert_announcements (
    tenant_id       uuid NOT NULL,
    account_id      uuid NOT NULL,
    below_on        date NOT NULL,
    threshold_minor bigint NOT NULL,
    PRIMARY KEY (tenant_id, account_id, below_on, threshold_minor),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['balance_alerts', 'balance_alert_announcements'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I USING (tenant_id = valorize_tenant()) '
            'WITH CHECK (tenant_id = valorize_tenant())', t);
    END LOOP;
END
$$;
