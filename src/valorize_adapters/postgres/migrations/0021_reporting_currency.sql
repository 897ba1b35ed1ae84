-- A tenant's reporting currency (issue 26): reports convert into it when a request names none.
ALTER TABLE tenants ADD COLUMN reporting_currency text CHECK (reporting_currency ~ '^[A-Z]{3}$');
