-- The sheets-sync service's schema (the sheet rows, write queue and outbox). Tables arrive with the service's issue;
-- the schema exists from the start so later migrations have a home and the runner is exercised on boot.
CREATE SCHEMA IF NOT EXISTS sheets;
