-- The audience page's sorts, and trigram indexes for its search (part of an
-- address, name or organisation, ignoring case: ILIKE '%q%'). pg_trgm is a
-- trusted extension: a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX registrations_created ON registrations (created_at, id);
CREATE INDEX registrations_name_key ON registrations (lower(name), id);
CREATE INDEX registrations_email_trgm ON registrations USING gin (email gin_trgm_ops);
CREATE INDEX registrations_name_trgm ON registrations USING gin (name gin_trgm_ops);
CREATE INDEX registrations_organisation_trgm ON registrations USING gin (organisation gin_trgm_ops);
CREATE INDEX registrations_confirmed_key ON registrations (COALESCE(confirmed_at, TIMESTAMP '1970-01-01 00:00:00'), id);
