-- Bounces and complaints: one row per report (or send-time refusal), keyed so
-- the same report twice is one row; why a registration was unsubscribed.

CREATE TABLE bounces (
    id TEXT PRIMARY KEY NOT NULL,
    registration_id TEXT REFERENCES registrations (id) ON DELETE CASCADE,
    outbox_id TEXT REFERENCES outbox (id) ON DELETE SET NULL,
    class TEXT NOT NULL CHECK (class IN ('hard', 'soft', 'complaint', 'policy')),
    status_code TEXT,
    source TEXT NOT NULL CHECK (source IN ('imap', 'webhook', 'cli', 'smtp')),
    -- "{outbox id}:{class}" when matched, else SHA-256 of the report part.
    report_key TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX bounces_report_key ON bounces (report_key);
CREATE INDEX bounces_registration ON bounces (registration_id, received_at);
CREATE INDEX bounces_received ON bounces (received_at);

-- user, bounced or complaint; kept while unsubscribed (and on a pending
-- registration whose mail a bounce stopped), cleared by a new signup.
ALTER TABLE registrations ADD COLUMN unsubscribe_reason TEXT
    CHECK (unsubscribe_reason IN ('user', 'bounced', 'complaint'));
UPDATE registrations SET unsubscribe_reason = 'user' WHERE status = 'unsubscribed';

-- The ledger's events gain bounce, complaint and reinstate: SQLite rebuilds it.
CREATE TABLE ledger_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    registration_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('signup', 'confirm', 'unsubscribe', 'import', 'erase', 'bounce', 'complaint', 'reinstate')),
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    consent_text_version TEXT,
    source TEXT
);
INSERT INTO ledger_rebuilt SELECT id, registration_id, event, at, actor, consent_text_version, source FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_rebuilt RENAME TO ledger;
CREATE INDEX ledger_registration ON ledger (registration_id, at);
