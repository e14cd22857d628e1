-- Announcements: a message from the organisers to members. Starting one creates
-- one outbox row (a delivery) per member; the outbox gains kinds and recipients:
-- each row has exactly one, a registration, an organiser or a typed test address.

CREATE TABLE announcements (
    id TEXT PRIMARY KEY NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- The audience filter as JSON: {"countries":[],"org_types":[],"interests":[],"timezones":[]}.
    audience TEXT NOT NULL,
    archive BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled')),
    status_reason TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    scheduled_at TIMESTAMP,
    started_at TIMESTAMP,
    -- The last start or resume: the auto-pause rule looks at attempts since then.
    resumed_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX announcements_status ON announcements (status, scheduled_at);

-- Announcement deliveries admitted per clock minute (`minute:2026-12-01T10:31`)
-- and per UTC day (`day:2026-12-01`), shared by every worker and instance.
CREATE TABLE send_counters (
    bucket TEXT PRIMARY KEY NOT NULL,
    admitted INTEGER NOT NULL
);

-- The relay as the workers last saw it: for the dashboard, and for the notice
-- owed once a relay that refused authentication or the sender accepts again.
CREATE TABLE relay_status (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    failing_since TIMESTAMP,
    last_failure_at TIMESTAMP,
    stage TEXT,
    last_error TEXT,
    refused_at TIMESTAMP
);

ALTER TABLE outbox ALTER COLUMN registration_id DROP NOT NULL;
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('confirmation', 'already_member', 'welcome', 'manage', 'announcement', 'announcement_test', 'notice', 'digest'));
ALTER TABLE outbox ADD COLUMN organiser_id TEXT REFERENCES organisers (id) ON DELETE CASCADE;
ALTER TABLE outbox ADD COLUMN test_address TEXT;
ALTER TABLE outbox ADD COLUMN announcement_id TEXT REFERENCES announcements (id) ON DELETE CASCADE;
-- A notice's subject: announcement_sent, announcement_paused, missed_its_time, relay_refused.
ALTER TABLE outbox ADD COLUMN notice TEXT;
-- Who asked for a test send (the hourly cap counts these).
ALTER TABLE outbox ADD COLUMN requested_by TEXT;
ALTER TABLE outbox ADD CONSTRAINT outbox_one_recipient CHECK (num_nonnulls(registration_id, organiser_id, test_address) = 1);
ALTER TABLE outbox ADD CONSTRAINT outbox_announcement_rows CHECK (kind <> 'announcement' OR (announcement_id IS NOT NULL AND registration_id IS NOT NULL));
ALTER TABLE outbox ADD CONSTRAINT outbox_test_rows CHECK (kind <> 'announcement_test' OR (announcement_id IS NOT NULL AND test_address IS NOT NULL AND requested_by IS NOT NULL));
ALTER TABLE outbox ADD CONSTRAINT outbox_organiser_rows CHECK (kind NOT IN ('notice', 'digest') OR organiser_id IS NOT NULL);
CREATE UNIQUE INDEX outbox_announcement_member ON outbox (announcement_id, registration_id);
CREATE INDEX outbox_announcement_status ON outbox (announcement_id, status);
CREATE INDEX outbox_requested_by ON outbox (requested_by, created_at);
-- The claim of transactional kinds, while many announcement deliveries are due.
CREATE INDEX outbox_due_kind ON outbox (status, kind, next_attempt_at);
