DELETE FROM ledger WHERE event IN ('bounce', 'complaint', 'reinstate');
CREATE TABLE ledger_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    registration_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('signup', 'confirm', 'unsubscribe', 'import', 'erase')),
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    consent_text_version TEXT,
    source TEXT
);
INSERT INTO ledger_rebuilt SELECT id, registration_id, event, at, actor, consent_text_version, source FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_rebuilt RENAME TO ledger;
CREATE INDEX ledger_registration ON ledger (registration_id, at);
ALTER TABLE registrations DROP COLUMN unsubscribe_reason;
DROP TABLE bounces;
