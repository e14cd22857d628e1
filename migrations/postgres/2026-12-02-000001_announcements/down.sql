-- Back to an outbox of registration mail only: rows of the new kinds go.
DELETE FROM outbox WHERE registration_id IS NULL
    OR kind NOT IN ('confirmation', 'already_member', 'welcome', 'manage');
DROP INDEX outbox_due_kind;
DROP INDEX outbox_requested_by;
DROP INDEX outbox_announcement_status;
DROP INDEX outbox_announcement_member;
ALTER TABLE outbox DROP CONSTRAINT outbox_organiser_rows;
ALTER TABLE outbox DROP CONSTRAINT outbox_test_rows;
ALTER TABLE outbox DROP CONSTRAINT outbox_announcement_rows;
ALTER TABLE outbox DROP CONSTRAINT outbox_one_recipient;
ALTER TABLE outbox DROP COLUMN requested_by;
ALTER TABLE outbox DROP COLUMN notice;
ALTER TABLE outbox DROP COLUMN announcement_id;
ALTER TABLE outbox DROP COLUMN test_address;
ALTER TABLE outbox DROP COLUMN organiser_id;
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('confirmation', 'already_member', 'welcome', 'manage'));
ALTER TABLE outbox ALTER COLUMN registration_id SET NOT NULL;
DROP TABLE relay_status;
DROP TABLE send_counters;
DROP TABLE announcements;
