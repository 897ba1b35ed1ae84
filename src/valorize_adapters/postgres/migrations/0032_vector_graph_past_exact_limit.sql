-- Only tenants the approximate search is for have their vectors in the HNSW graph (issue 23,
-- item 7). pgvector 0.6.2 reads the graph only for tenants past the exact search's limit
-- (20,000 examples, VectorSettings.exact_limit); smaller tenants are ranked exactly, yet every
-- new vector of theirs paid ~0.5 ms of graph insert. Now a vector enters the graph only when
-- `indexed`: set on all of a tenant's vectors by the write that takes it past the limit (in that
-- write's transaction), and on every new vector of a tenant that has crossed. The search uses
-- the graph only when none of the tenant's vectors is outside it (`labeled_vectors_outside`), so
-- a race between two units crossing together costs an exact search, never a missed row
-- (valorize_adapters.postgres.vector_index).
ALTER TABLE labeled_vectors ADD COLUMN indexed boolean NOT NULL DEFAULT false;
CREATE INDEX labeled_vectors_indexed ON labeled_vectors (tenant_id, dims, indexed);

-- Tenants already past the default limit keep their vectors in the graph (as the migrating role:
-- like 0031, run as a superuser or a role with BYPASSRLS; vectors it cannot see stay outside and
-- their tenant is searched exactly until its next learned row flags them).
UPDATE labeled_vectors v SET indexed = true
FROM (SELECT tenant_id, dims FROM labeled_examples GROUP BY tenant_id, dims HAVING count(*) > 20000) large
WHERE v.tenant_id = large.tenant_id AND v.dims = large.dims;

-- The HNSW indexes become partial on `indexed` (the 256-dimension one ships here;
-- ensure_vector_index creates the others on first use, as before).
DO $$
DECLARE
    i record;
BEGIN
    FOR i IN SELECT indexname FROM pg_indexes
             WHERE tablename = 'labeled_vectors' AND indexname LIKE 'labeled\_vectors\_hnsw\_%'
    LOOP
        EXECUTE format('DROP INDEX %I', i.indexname);
    END LOOP;
END
$$;
CREATE INDEX labeled_vectors_hnsw_256 ON labeled_vectors
    USING hnsw ((embedding::vector(256)) vector_cosine_ops) WHERE dims = 256 AND indexed;
