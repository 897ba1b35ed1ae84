-- The tenant's learned payee normalization (issue 23): for each word of a labeled bank line,
-- how much labeled weight it carried under each category. Words spread over many categories
-- (bank prefixes, places) weigh little; words seen under one weigh much
-- (valorize_core.model.payee_words). Deleting a category forgets its counts.
CREATE TABLE payee_words (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    word        text NOT NULL CHECK (length(word) BETWEEN 1 AND 100),
    category_id uuid NOT NULL,
    weight      double precision NOT NULL CHECK (weight > 0),
    PRIMARY KEY (tenant_id, word, category_id),
    FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE payee_words ENABLE ROW LEVEL SECURITY;
ALTER TABLE payee_words FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON payee_words
    USING (tenant_id = valorize_tenant()) WITH CHECK (tenant_id = valorize_tenant());
