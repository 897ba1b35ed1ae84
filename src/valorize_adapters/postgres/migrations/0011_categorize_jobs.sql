-- Batch categorization runs as a job too.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('apply_rules', 'generate_report', 'categorize'));
