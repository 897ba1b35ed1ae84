-- Word-prefix search over description and payee. The words are computed by the application
-- (valorize_core.listing.search_tokens: case- and accent-folded) and stored as a tsvector, so
-- memory and PostgreSQL search alike. No GIN index: under row-level security PostgreSQL will
-- not use an index for @@ (ts_match_vq is not leakproof), so the search reads the tenant's
-- rows through the tenant's own index instead (see PgTransactions._searching).
ALTER TABLE transactions ADD COLUMN search tsvector NOT NULL DEFAULT ''::tsvector;
