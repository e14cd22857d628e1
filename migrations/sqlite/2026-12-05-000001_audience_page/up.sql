-- The audience page's sorts. Its search (part of an address, name or
-- organisation) scans on SQLite; see the README for the figure.
CREATE INDEX registrations_created ON registrations (created_at, id);
CREATE INDEX registrations_name_key ON registrations (lower(name), id);
CREATE INDEX registrations_confirmed_key ON registrations (COALESCE(confirmed_at, '1970-01-01 00:00:00'), id);
