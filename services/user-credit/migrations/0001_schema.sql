-- The user-credit service's schema (users, profiles, preferences and the credit ledger). Tables arrive with the service's issue;
-- the schema exists from the start so later migrations have a home and the runner is exercised on boot.
CREATE SCHEMA IF NOT EXISTS credits;
