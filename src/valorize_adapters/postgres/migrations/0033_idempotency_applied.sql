-- An Idempotency-Key whose request's write committed is 'applied': the write's own transaction
-- marks it (PgIdempotencyStore.MARK_APPLIED, sent with its COMMIT), so a request whose answer was
-- lost after the commit (the connection cut, the API dead) is never released nor retaken: its
-- retry answers 409 `already_applied` instead of writing a second time.
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_status_check;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_status_check
    CHECK (status IN ('in_progress', 'applied', 'completed'));
