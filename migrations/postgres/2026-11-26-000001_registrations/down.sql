DROP TABLE suppressions;
DROP TABLE ledger;
DROP TABLE delivery_attempts;
DROP TABLE outbox;
DROP TABLE tokens;
DROP TABLE consents;
DROP TABLE registrations;
DROP TABLE consent_texts;
