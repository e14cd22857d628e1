-- Back to an outbox of registration mail only: rows of the new kinds go.
DELETE FROM outbox WHERE registration_id IS NULL
    OR kind NOT IN ('confirmation', 'already_member', 'welcome', 'manage');

CREATE TABLE delivery_attempts_kept AS SELECT * FROM delivery_attempts;
DROP TABLE delivery_attempts;

CREATE TABLE outbox_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    registration_id TEXT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('confirmation', 'already_member', 'welcome', 'manage')),
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
    last_error TEXT
);
INSERT INTO outbox_rebuilt SELECT id, registration_id, kind, token_id, unsubscribe_token_id,
    message_id, status, attempts, next_attempt_at, leased_until, lease_owner, created_at,
    sent_at, last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_registration ON outbox (registration_id);

CREATE TABLE delivery_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    outbox_id TEXT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    worker TEXT NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('sent', 'retry', 'failed', 'cancelled')),
    detail TEXT
);
INSERT INTO delivery_attempts SELECT * FROM delivery_attempts_kept
    WHERE outbox_id IN (SELECT id FROM outbox);
DROP TABLE delivery_attempts_kept;
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id);

DROP TABLE relay_status;
DROP TABLE send_counters;
DROP TABLE announcements;
