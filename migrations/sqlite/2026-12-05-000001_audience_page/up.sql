-- The audience page's sorts. Its search (part of an address, name or
-- organisation) scans on SQLite; see the README for the figure.
CREATE INDEX registrations_created ON registrations (created_at, id);
CREATE INDEX registrations_name_key ON registrations (lower(name), id);
