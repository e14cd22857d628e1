-- Digest rows cannot be rendered without their window: they go.
DELETE FROM delivery_attempts WHERE outbox_id IN (SELECT id FROM outbox WHERE kind = 'digest');
DELETE FROM outbox WHERE kind = 'digest';
DROP INDEX outbox_organiser_digest;
ALTER TABLE outbox DROP COLUMN window_to;
ALTER TABLE outbox DROP COLUMN window_from;
ALTER TABLE outbox DROP COLUMN digest_key;
ALTER TABLE organisers DROP COLUMN digest;
