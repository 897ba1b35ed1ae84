-- Imports accept OFX files too.
ALTER TABLE imports DROP CONSTRAINT imports_source_format_check;
ALTER TABLE imports ADD CONSTRAINT imports_source_format_check CHECK (source_format IN ('csv', 'ofx'));
