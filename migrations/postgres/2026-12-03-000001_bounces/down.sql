DELETE FROM ledger WHERE event IN ('bounce', 'complaint', 'reinstate');
ALTER TABLE ledger DROP CONSTRAINT ledger_event_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_event_check CHECK (event IN ('signup', 'confirm', 'unsubscribe', 'import', 'erase'));
ALTER TABLE registrations DROP COLUMN unsubscribe_reason;
DROP TABLE bounces;
