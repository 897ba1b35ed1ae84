-- An Idempotency-Key whose request's write committed is 'applied': the write's own transaction
-- marks it (PgIdempotencyStore.MARK_APPLIED, sent with its COMMIT), so a request whose answer was
-- lost after the commit (the connection cut, the API dead) is never released nor retaken: its
-- retry answers 409 `already_applied` instead of writing a second time.
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_status_check;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_status_check
    CHECK (status IN ('in_progress', 'applied', 'completed'));

-- Claims are owned: a claim is the row of its key taken at `created_at` (a key is retaken only
-- after its claim's lock lapsed or it expired: a later claim has a later instant). The mark of a
-- write names its claim and fails when that claim is gone — its request outlived its lock and a
-- retry retook the key — so the late write rolls back instead of landing beside the retry's.
-- Row-level security applies (the caller's rights and tenant setting).
CREATE FUNCTION idempotency_mark_applied(p_tenant uuid, p_key text, p_claimed_at timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE idempotency_keys SET status = 'applied'
        WHERE tenant_id = p_tenant AND key = p_key AND created_at = p_claimed_at AND status = 'in_progress';
    IF NOT FOUND AND NOT EXISTS (
        SELECT FROM idempotency_keys WHERE tenant_id = p_tenant AND key = p_key AND created_at = p_claimed_at
    ) THEN
        RAISE EXCEPTION 'the claim of Idempotency-Key % was retaken by a retry', p_key USING ERRCODE = 'VZ002';
    END IF;
END
$$;
