-- The approximate (HNSW) neighbour index holds each tenant's *distinct* vectors once (issue 23,
-- item 7). A person labels the same payee month after month, and every labeled row used to be
-- its own HNSW entry: ~1 ms of graph maintenance per learned row (95 % of its insert), with
-- identical vectors the graph's slow case. Now a learned row whose vector the tenant already has
-- costs a btree entry; only a new vector enters the graph.
--
-- labeled_examples keeps every row and its vector (the exact search ranks those); its digest
-- (sha256 of the vector's binary form) joins a row to its entry in labeled_vectors. An entry
-- whose rows are all gone stays (it only takes a slot in an approximate search, which falls back
-- to the exact one when it returns too few rows): deleting it could race a concurrent insert
-- of the same vector, whose ON CONFLICT DO NOTHING would then have nothing to point to.
ALTER TABLE labeled_examples
    ADD COLUMN digest bytea GENERATED ALWAYS AS (sha256(vector_send(embedding))) STORED;
CREATE INDEX labeled_examples_digest ON labeled_examples (tenant_id, dims, digest);
DROP INDEX labeled_examples_tenant;  -- the digest index's prefix serves its scans

CREATE TABLE labeled_vectors (
    tenant_id   uuid NOT NULL,
    dims        integer NOT NULL,
    embedding   vector NOT NULL,
    digest      bytea GENERATED ALWAYS AS (sha256(vector_send(embedding))) STORED,
    PRIMARY KEY (tenant_id, dims, digest),
    CHECK (vector_dims(embedding) = dims)
);

ALTER TABLE labeled_vectors ENABLE ROW LEVEL SECURITY;
ALTER TABLE labeled_vectors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON labeled_vectors
    USING (tenant_id = valorize_tenant()) WITH CHECK (tenant_id = valorize_tenant());

INSERT INTO labeled_vectors (tenant_id, dims, embedding)
SELECT DISTINCT ON (tenant_id, dims, digest) tenant_id, dims, embedding FROM labeled_examples
ON CONFLICT DO NOTHING;

-- The HNSW indexes move from the rows to the distinct vectors (the 256-dimension one ships
-- here; ensure_vector_index creates the others on first use, as before).
DO $$
DECLARE
    i record;
BEGIN
    FOR i IN SELECT indexname FROM pg_indexes
             WHERE tablename = 'labeled_examples' AND indexname LIKE 'labeled\_examples\_hnsw\_%'
    LOOP
        EXECUTE format('DROP INDEX %I', i.indexname);
    END LOOP;
END
$$;
CREATE INDEX labeled_vectors_hnsw_256 ON labeled_vectors
    USING hnsw ((embedding::vector(256)) vector_cosine_ops) WHERE dims = 256;
