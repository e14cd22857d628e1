DROP INDEX registrations_confirmed_key;
DROP INDEX registrations_name_key;
DROP INDEX registrations_created;
