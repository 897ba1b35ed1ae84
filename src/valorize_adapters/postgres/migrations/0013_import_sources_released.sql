-- A finished import keeps no file: the run that completes or fails it takes the file in the
-- same transaction. Files left behind by runs before this release (which dropped the file in a
-- transaction of its own, after the outcome) are freed here, and the rule is kept from now on.
UPDATE imports SET source = NULL, source_options = '{}' WHERE status IN ('completed', 'failed') AND source IS NOT NULL;
ALTER TABLE imports ADD CONSTRAINT imports_finished_without_source
    CHECK (source IS NULL OR status IN ('pending', 'running'));
