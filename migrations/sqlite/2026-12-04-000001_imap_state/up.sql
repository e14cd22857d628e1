-- The bounce mailbox read over IMAP (one row, id 1): the lease that lets one
-- poller at a time read it, how far it has read (UIDVALIDITY and the last UID
-- processed, for the mailbox named in `mailbox`), when the next poll is due
-- (later while it fails), and its last error for the dashboard.
CREATE TABLE imap_state (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    owner TEXT,
    leased_until TIMESTAMP,
    -- "{username}@{host}:{port}/{mailbox}": the UIDs below belong to it.
    mailbox TEXT,
    uid_validity BIGINT,
    last_uid BIGINT NOT NULL DEFAULT 0,
    next_poll_at TIMESTAMP,
    -- Failed polls in a row.
    failures INTEGER NOT NULL DEFAULT 0,
    polled_at TIMESTAMP,
    failing_since TIMESTAMP,
    last_error TEXT,
    last_error_at TIMESTAMP
);
INSERT INTO imap_state (id) VALUES (1);
