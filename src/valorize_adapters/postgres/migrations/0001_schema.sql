-- Valorize schema. Every table carries tenant_id, first in its primary key and every index.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL
);

-- A user's home tenant is where they signed up; memberships give roles in any tenant.
CREATE TABLE users (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    email       text NOT NULL CHECK (email = lower(email) AND length(email) <= 320),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (id)
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE memberships (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    role        text NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE api_tokens (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL,
    user_id     uuid NOT NULL,
    name        text NOT NULL,
    token_hash  text NOT NULL CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    role        text NOT NULL CHECK (role IN ('owner', 'member', 'viewer')),
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    last_four   text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id)
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);

CREATE TABLE accounts (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind            text NOT NULL CHECK (kind IN ('checking', 'savings', 'credit_card', 'cash', 'investment', 'loan')),
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    exponent        smallint NOT NULL CHECK (exponent BETWEEN 0 AND 4),
    opening_minor   bigint NOT NULL CHECK (abs(opening_minor) <= 999999999999999),
    balance_minor   bigint NOT NULL,
    opened_on       date NOT NULL,
    archived        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, id, currency)
);
CREATE UNIQUE INDEX accounts_name ON accounts (tenant_id, lower(name));

CREATE TABLE categories (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    id          uuid NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind        text NOT NULL CHECK (kind IN ('expense', 'income')),
    parent_id   uuid,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES categories (tenant_id, id),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX categories_sibling_name
    ON categories (tenant_id, coalesce(parent_id, '00000000-0000-0000-0000-000000000000'), lower(name));

CREATE TABLE imports (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    account_id      uuid NOT NULL,
    filename        text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    total_rows      integer NOT NULL DEFAULT 0 CHECK (total_rows >= 0),
    imported        integer NOT NULL DEFAULT 0 CHECK (imported >= 0),
    duplicates      integer NOT NULL DEFAULT 0 CHECK (duplicates >= 0),
    errors          jsonb NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL,
    completed_at    timestamptz,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id)
);

CREATE TABLE transactions (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    account_id      uuid NOT NULL,
    booked_on       date NOT NULL,
    description     text NOT NULL,
    payee           text NOT NULL,
    amount_minor    bigint NOT NULL CHECK (abs(amount_minor) <= 999999999999999),
    currency        char(3) NOT NULL,
    exponent        smallint NOT NULL CHECK (exponent BETWEEN 0 AND 4),
    status          text NOT NULL CHECK (status IN ('pending', 'posted', 'reconciled')),
    source          text NOT NULL CHECK (source IN ('manual', 'import', 'recurring')),
    tags            text[] NOT NULL DEFAULT '{}',
    external_id     text,
    fingerprint     text,
    cat_source      text NOT NULL CHECK (cat_source IN ('manual', 'rule', 'memory', 'neighbours', 'none')),
    cat_confidence  numeric(4, 3) NOT NULL CHECK (cat_confidence BETWEEN 0 AND 1),
    cat_explanation text NOT NULL,
    cat_rule_id     uuid,
    transfer_id     uuid,
    import_id       uuid,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    -- The transaction's currency is its account's currency.
    FOREIGN KEY (tenant_id, account_id, currency) REFERENCES accounts (tenant_id, id, currency),
    FOREIGN KEY (tenant_id, import_id) REFERENCES imports (tenant_id, id)
);
-- The paper's read path (its §5.5): newest first per account, keyset-paginated.
CREATE INDEX transactions_account_page ON transactions (tenant_id, account_id, booked_on DESC, id DESC);
CREATE INDEX transactions_page ON transactions (tenant_id, booked_on DESC, id DESC);
CREATE UNIQUE INDEX transactions_bank_id ON transactions (tenant_id, account_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX transactions_fingerprint ON transactions (tenant_id, account_id, fingerprint)
    WHERE fingerprint IS NOT NULL;
CREATE INDEX transactions_transfer ON transactions (tenant_id, transfer_id) WHERE transfer_id IS NOT NULL;
CREATE INDEX transactions_import ON transactions (tenant_id, import_id) WHERE import_id IS NOT NULL;

CREATE TABLE splits (
    tenant_id       uuid NOT NULL,
    transaction_id  uuid NOT NULL,
    position        smallint NOT NULL CHECK (position >= 0),
    category_id     uuid,
    amount_minor    bigint NOT NULL,
    memo            text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, transaction_id, position),
    FOREIGN KEY (tenant_id, transaction_id) REFERENCES transactions (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id)
);
CREATE INDEX splits_category ON splits (tenant_id, category_id);

-- django-hordak's check_leg, for splits: a transaction's splits must sum exactly to its amount.
-- Deferred to commit, so a unit of work may rewrite splits in any order.
CREATE FUNCTION check_transaction_splits() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t_tenant uuid;
    t_id     uuid;
    t_amount bigint;
    s_total  numeric;
    s_count  integer;
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
    SELECT amount_minor INTO t_amount FROM transactions WHERE tenant_id = t_tenant AND id = t_id;
    IF NOT FOUND THEN
        RETURN NULL;  -- the transaction itself was deleted
    END IF;
    SELECT coalesce(sum(amount_minor), 0), count(*) INTO s_total, s_count
        FROM splits WHERE tenant_id = t_tenant AND transaction_id = t_id;
    IF s_count = 0 OR s_total <> t_amount THEN
        RAISE EXCEPTION 'splits of transaction % sum to % (% splits), not %', t_id, s_total, s_count, t_amount
            USING ERRCODE = 'VZ001';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER splits_sum_to_amount
    AFTER INSERT OR UPDATE OR DELETE ON splits
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION check_transaction_splits();
CREATE CONSTRAINT TRIGGER transaction_amount_matches_splits
    AFTER INSERT OR UPDATE OF amount_minor ON transactions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION check_transaction_splits();

CREATE TABLE budgets (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL,
    category_id uuid NOT NULL,
    period      text NOT NULL CHECK (period IN ('week', 'month', 'year')),
    limit_minor bigint NOT NULL CHECK (limit_minor > 0),
    currency    char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    rollover    text NOT NULL CHECK (rollover IN ('reset', 'carry_unspent', 'carry_unspent_and_overspent')),
    starts_on   date NOT NULL,
    thresholds  integer[] NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, category_id, period),
    FOREIGN KEY (tenant_id, category_id) REFERENCES categories (tenant_id, id)
);

CREATE TABLE budget_announcements (
    tenant_id       uuid NOT NULL,
    budget_id       uuid NOT NULL,
    period_start    date NOT NULL,
    threshold       integer NOT NULL,
    PRIMARY KEY (tenant_id, budget_id, period_start, threshold),
    FOREIGN KEY (tenant_id, budget_id) REFERENCES budgets (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE rules (
    tenant_id       uuid NOT NULL REFERENCES tenants (id),
    id              uuid NOT NULL,
    name            text NOT NULL,
    position        integer NOT NULL CHECK (position >= 0),
    conditions      jsonb NOT NULL,
    actions         jsonb NOT NULL,
    stop_processing boolean NOT NULL,
    enabled         boolean NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX rules_order ON rules (tenant_id, position, id);

CREATE TABLE payee_memory (
    tenant_id   uuid NOT NULL REFERENCES tenants (id),
    payee_key   text NOT NULL,
    recent      uuid[] NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, payee_key)
);

-- Domain events committed with the state change; the relay publishes and marks them.
CREATE TABLE outbox (
    tenant_id       uuid NOT NULL,
    id              uuid NOT NULL,
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    name            text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    payload         jsonb NOT NULL,
    published_at    timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- Idempotency-Key records of the HTTP API (Stripe semantics), kept 24 hours.
CREATE TABLE idempotency_keys (
    tenant_id       uuid NOT NULL,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash    text NOT NULL,
    status          text NOT NULL CHECK (status IN ('in_progress', 'completed')),
    response_status integer,
    response_body   bytea,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Task ids already handled: recorded in the same transaction as a handler's effects.
CREATE TABLE processed_tasks (
    tenant_id       uuid NOT NULL,
    task_id         uuid NOT NULL,
    name            text NOT NULL,
    processed_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, task_id)
);

-- Labeled examples for the nearest-neighbour categorizer. The column is dimension-free so
-- embedders of different sizes can coexist; each dimension gets its own HNSW expression index.
CREATE TABLE labeled_examples (
    tenant_id   uuid NOT NULL,
    item_id     uuid NOT NULL,
    category_id uuid NOT NULL,
    text        text NOT NULL,
    dims        integer NOT NULL,
    embedding   vector NOT NULL,
    PRIMARY KEY (tenant_id, item_id),
    CHECK (vector_dims(embedding) = dims)
);
CREATE INDEX labeled_examples_tenant ON labeled_examples (tenant_id, dims);
CREATE INDEX labeled_examples_hnsw_256 ON labeled_examples
    USING hnsw ((embedding::vector(256)) vector_cosine_ops) WHERE dims = 256;
