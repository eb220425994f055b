-- The call service's schema. Tables arrive with the calls issue; the schema exists from the start
-- so every later migration has a home and the migration runner is exercised on boot.
CREATE SCHEMA IF NOT EXISTS calls;
