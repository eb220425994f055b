-- Countries a user may call (ISO 3166-1 alpha-2, upper case), within the account's
-- ALLOWED_DESTINATION_COUNTRIES; empty: any the account allows. Set by an administrator, like caller_ids.
ALTER TABLE credits.users
  ADD COLUMN allowed_destination_countries text[] NOT NULL DEFAULT '{}'
  CONSTRAINT users_allowed_destination_countries_iso
  CHECK (array_to_string(allowed_destination_countries, ',') ~ '^([A-Z]{2}(,[A-Z]{2})*)?$');
