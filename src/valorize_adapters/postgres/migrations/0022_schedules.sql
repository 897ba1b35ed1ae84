-- Schedules: recurring transaction templates (issue 27). The rule is normalized RFC 5545
-- RRULE text; next_due is the first occurrence not yet handled (NULL once the rule has ended).
CREATE TABLE schedules (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    account_id      uuid NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    payee           text NOT NULL CHECK (length(payee) BETWEEN 1 AND 200),
    amount_minor    bigint NOT NULL CHECK (amount_minor <> 0),
    tolerance_minor bigint NOT NULL CHECK (tolerance_minor >= 0),
    currency        text NOT NULL,
    splits          jsonb NOT NULL,
    tags            text[] NOT NULL DEFAULT '{}',
    rule            text NOT NULL CHECK (length(rule) BETWEEN 1 AND 500),
    starts_on       date NOT NULL,
    next_due        date,
    window_days     integer NOT NULL CHECK (window_days BETWEEN 0 AND 15),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX schedules_due ON schedules (next_due) WHERE active AND next_due IS NOT NULL;

-- One row per schedule and due date that was handled: the key makes posting exactly once, a
-- redelivered or concurrent job finds the date taken. The transaction may be deleted later;
-- the row stays so the date is not posted again.
CREATE TABLE schedule_occurrences (
    tenant_id       uuid NOT NULL,
    schedule_id     uuid NOT NULL,
    due_on          date NOT NULL,
    transaction_id  uuid NOT NULL,
    handling        text NOT NULL CHECK (handling IN ('posted', 'linked')),
    PRIMARY KEY (tenant_id, schedule_id, due_on),
    FOREIGN KEY (tenant_id, schedule_id) REFERENCES schedules (tenant_id, id) ON DELETE CASCADE
);

-- The scheduler asks which tenants have something due, before any tenant is chosen: the
-- directory scope may read schedules across tenants (never write them).
ALTER TABLE schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON schedules
    USING (tenant_id = valorize_tenant() OR valorize_directory_scope())
    WITH CHECK (tenant_id = valorize_tenant());
ALTER TABLE schedule_occurrences ENABLE ROW LEVEL SECURITY;
ALTER TABLE schedule_occurrences FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON schedule_occurrences
    USING (tenant_id = valorize_tenant()) WITH CHECK (tenant_id = valorize_tenant());
