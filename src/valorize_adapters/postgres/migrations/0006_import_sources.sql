-- An import keeps the uploaded file and how to read it until the import task has run:
-- tasks carry the import id, never the file (task bodies stay small).
ALTER TABLE imports ADD COLUMN source bytea;
ALTER TABLE imports ADD COLUMN source_format text CHECK (source_format IN ('csv'));
ALTER TABLE imports ADD COLUMN source_options jsonb NOT NULL DEFAULT '{}';
