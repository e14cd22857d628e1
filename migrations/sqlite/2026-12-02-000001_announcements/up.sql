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

-- SQLite cannot change a column's CHECK or NOT NULL in place: the outbox is
-- rebuilt. delivery_attempts, which refers to it, is set aside first so that
-- dropping the old outbox cascades into nothing.
CREATE TABLE delivery_attempts_kept AS SELECT * FROM delivery_attempts;
DROP TABLE delivery_attempts;

CREATE TABLE outbox_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    registration_id TEXT REFERENCES registrations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('confirmation', 'already_member', 'welcome', 'manage', 'announcement', 'announcement_test', 'notice', 'digest')),
    token_id TEXT,
    unsubscribe_token_id TEXT,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    leased_until TIMESTAMP,
    lease_owner TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    last_error TEXT,
    organiser_id TEXT REFERENCES organisers (id) ON DELETE CASCADE,
    test_address TEXT,
    announcement_id TEXT REFERENCES announcements (id) ON DELETE CASCADE,
    -- A notice's subject: announcement_sent, announcement_paused, missed_its_time, relay_refused.
    notice TEXT,
    -- Who asked for a test send (the hourly cap counts these).
    requested_by TEXT,
    CHECK ((registration_id IS NOT NULL) + (organiser_id IS NOT NULL) + (test_address IS NOT NULL) = 1),
    CHECK (kind <> 'announcement' OR (announcement_id IS NOT NULL AND registration_id IS NOT NULL)),
    CHECK (kind <> 'announcement_test' OR (announcement_id IS NOT NULL AND test_address IS NOT NULL AND requested_by IS NOT NULL)),
    CHECK (kind NOT IN ('notice', 'digest') OR organiser_id IS NOT NULL)
);
INSERT INTO outbox_rebuilt (id, registration_id, kind, token_id, unsubscribe_token_id, message_id,
    status, attempts, next_attempt_at, leased_until, lease_owner, created_at, sent_at, last_error)
SELECT id, registration_id, kind, token_id, unsubscribe_token_id, message_id,
    status, attempts, next_attempt_at, leased_until, lease_owner, created_at, sent_at, last_error
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_registration ON outbox (registration_id);
CREATE UNIQUE INDEX outbox_announcement_member ON outbox (announcement_id, registration_id);
CREATE INDEX outbox_announcement_status ON outbox (announcement_id, status);
CREATE INDEX outbox_requested_by ON outbox (requested_by, created_at);
-- The claim of transactional kinds, while many announcement deliveries are due.
CREATE INDEX outbox_due_kind ON outbox (status, kind, next_attempt_at);

CREATE TABLE delivery_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    outbox_id TEXT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    worker TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('sent', 'retry', 'failed', 'cancelled')),
    detail TEXT
);
INSERT INTO delivery_attempts SELECT * FROM delivery_attempts_kept;
DROP TABLE delivery_attempts_kept;
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id);
