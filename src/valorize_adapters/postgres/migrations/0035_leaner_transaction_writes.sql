-- What every new transaction costs PostgreSQL, without a guarantee less (issue 24; perf/README.md,
-- "PostgreSQL's share of a write").

-- The GIN index on tags served no query of the application: under row-level security the planner
-- may not use an index for `&&` or `@>` (arrayoverlap and arraycontains are not leakproof), so a
-- tag filter reads the tenant's rows through its own B-tree indexes whatever exists, as the word
-- search does (0003). It cost every inserted transaction a GIN entry (its pending list and
-- metapage: ~165 bytes of WAL a row) and a later merge of that list.
DROP INDEX transactions_tags;

-- A split without a category is found through its transaction (the uncategorized filter reads
-- splits by the primary key); only the lookups by category (the list's category filter, the
-- category's use count, its deletion and foreign-key check) read this index, and every one names
-- a category. So uncategorized splits, many on a bank's import, need no entry.
DROP INDEX splits_category;
CREATE INDEX splits_category ON splits (tenant_id, category_id) WHERE category_id IS NOT NULL;

-- The splits check (0001) in one statement a firing instead of two: the transaction's amount and
-- its splits' sum and count read together. The same check, the same error.
CREATE OR REPLACE FUNCTION check_transaction_splits() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t_tenant uuid;
    t_id     uuid;
    t_amount bigint;
    s_total  numeric;
    s_count  bigint;
BEGIN
    IF TG_TABLE_NAME = 'splits' THEN
        IF TG_OP = 'DELETE' THEN
            t_tenant := OLD.tenant_id; t_id := OLD.transaction_id;
        ELSE
            t_tenant := NEW.tenant_id; t_id := NEW.transaction_id;
        END IF;
    ELSE
        t_tenant := NEW.tenant_id; t_id := NEW.id;
    END IF;
    SELECT t.amount_minor, s.total, s.n INTO t_amount, s_total, s_count
        FROM transactions t,
             LATERAL (SELECT coalesce(sum(x.amount_minor), 0) AS total, count(*) AS n
                        FROM splits x WHERE x.tenant_id = t.tenant_id AND x.transaction_id = t.id) s
        WHERE t.tenant_id = t_tenant AND t.id = t_id;
    IF NOT FOUND THEN
        RETURN NULL;  -- the transaction itself was deleted
    END IF;
    IF s_count = 0 OR s_total <> t_amount THEN
        RAISE EXCEPTION 'splits of transaction % sum to % (% splits), not %', t_id, s_total, s_count, t_amount
            USING ERRCODE = 'VZ001';
    END IF;
    RETURN NULL;
END
$$;
