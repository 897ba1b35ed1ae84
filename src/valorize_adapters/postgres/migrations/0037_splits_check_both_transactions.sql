-- The splits check (0001, 0035) on a split's UPDATE read only the transaction the split belongs to
-- after it: a split moved to another transaction (`UPDATE splits SET transaction_id = …`) left the
-- one it came from unchecked, which could commit unbalanced. The application never moves a split
-- (it deletes and inserts), so this closes a gap in the database's own guarantee: both
-- transactions are checked when a split changes transaction (or tenant).
CREATE OR REPLACE FUNCTION check_transaction_splits() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t_tenants uuid[];
    t_ids     uuid[];
    i         int;
    t_amount  bigint;
    s_total   numeric;
    s_count   bigint;
BEGIN
    IF TG_TABLE_NAME = 'splits' THEN
        IF TG_OP = 'DELETE' THEN
            t_tenants := ARRAY[OLD.tenant_id]; t_ids := ARRAY[OLD.transaction_id];
        ELSIF TG_OP = 'UPDATE' AND (OLD.tenant_id, OLD.transaction_id) IS DISTINCT FROM (NEW.tenant_id, NEW.transaction_id) THEN
            t_tenants := ARRAY[NEW.tenant_id, OLD.tenant_id]; t_ids := ARRAY[NEW.transaction_id, OLD.transaction_id];
        ELSE
            t_tenants := ARRAY[NEW.tenant_id]; t_ids := ARRAY[NEW.transaction_id];
        END IF;
    ELSE
        t_tenants := ARRAY[NEW.tenant_id]; t_ids := ARRAY[NEW.id];
    END IF;
    FOR i IN 1 .. array_length(t_ids, 1) LOOP
        SELECT t.amount_minor, s.total, s.n INTO t_amount, s_total, s_count
            FROM transactions t,
                 LATERAL (SELECT coalesce(sum(x.amount_minor), 0) AS total, count(*) AS n
                            FROM splits x WHERE x.tenant_id = t.tenant_id AND x.transaction_id = t.id) s
            WHERE t.tenant_id = t_tenants[i] AND t.id = t_ids[i];
        CONTINUE WHEN NOT FOUND;  -- the transaction itself was deleted
        IF s_count = 0 OR s_total <> t_amount THEN
            RAISE EXCEPTION 'splits of transaction % sum to % (% splits), not %', t_ids[i], s_total, s_count, t_amount
                USING ERRCODE = 'VZ001';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
