DROP INDEX registrations_confirmed_key;
DROP INDEX registrations_organisation_trgm;
DROP INDEX registrations_name_trgm;
DROP INDEX registrations_email_trgm;
DROP INDEX registrations_name_key;
DROP INDEX registrations_created;
