-- The poller's schema (sweep lease and checkpoints). Tables arrive with the poller issue;
-- the schema exists from the start so later migrations have a home and the runner is exercised on boot.
CREATE SCHEMA IF NOT EXISTS poller;
