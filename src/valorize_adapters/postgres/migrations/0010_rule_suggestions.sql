-- Rules Valorize proposes when a person keeps putting a payee in one category; one per payee
-- and category, kept after a decision so a dismissed one is not proposed again.
CREATE TABLE rule_suggestions (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    payee_key       text NOT NULL CHECK (length(payee_key) BETWEEN 1 AND 500),
    category_id     uuid NOT NULL,
    agreeing        integer NOT NULL CHECK (agreeing > 0),
    total           integer NOT NULL CHECK (total >= agreeing),
    status          text NOT NULL CHECK (status IN ('pending', 'accepted', 'dismissed')),
    created_at      timestamptz NOT NULL,
    decided_at      timestamptz,
    rule_id         uuid,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, payee_key, category_id),
    FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id) ON DELETE CASCADE,
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX rule_suggestions_newest ON rule_suggestions (tenant_id, created_at DESC, id DESC);

ALTER TABLE rule_suggestions ENABLE ROW LEVEL SECURITY;
ALTER TABLE rule_suggestions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rule_suggestions
    USING (tenant_id = valorize_tenant()) WITH CHECK (tenant_id = valorize_tenant());
