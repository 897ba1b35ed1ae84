-- Statement formats and closing balances.
--
-- A statement's closing balance checked against the account after its import (OFX LEDGERBAL,
-- CAMT.053 CLBD, MT940 :62F:): {"as_of", "currency", "statement_minor", "account_minor"}, or
-- NULL when the statement gives no balance. The table's row-level security covers the column.
ALTER TABLE imports ADD COLUMN balance_check jsonb;

-- Imports accept QIF, CAMT.053 and MT940 files too.
ALTER TABLE imports DROP CONSTRAINT imports_source_format_check;
ALTER TABLE imports ADD CONSTRAINT imports_source_format_check
    CHECK (source_format IN ('csv', 'ofx', 'qif', 'camt053', 'mt940'));
