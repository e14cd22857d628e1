-- Registrations, their consent records, tokens, the outbox and the ledger.
-- Portable types only: ids are UUID text, times are UTC TIMESTAMP in whole seconds
-- bound from Rust, statuses are text with a CHECK.

CREATE TABLE consent_texts (
    version TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    first_used_at TIMESTAMP NOT NULL
);

CREATE TABLE registrations (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    name TEXT NOT NULL,
    organisation TEXT,
    org_type TEXT CHECK (org_type IN ('government', 'university', 'industry', 'nonprofit', 'other')),
    country TEXT,
    timezone TEXT,
    interests TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
    source TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_signup_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    confirmed_via TEXT CHECK (confirmed_via IN ('link', 'code', 'import')),
    confirm_ip TEXT,
    confirm_user_agent TEXT,
    unsubscribed_at TIMESTAMP,
    last_email_at TIMESTAMP,
    code_failures INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX registrations_email_key ON registrations (email_key);
CREATE INDEX registrations_status_created ON registrations (status, created_at);

CREATE TABLE consents (
    id TEXT PRIMARY KEY NOT NULL,
    registration_id TEXT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    given_at TIMESTAMP NOT NULL,
    ip TEXT,
    user_agent TEXT,
    text_version TEXT NOT NULL REFERENCES consent_texts (version),
    source TEXT NOT NULL
);
CREATE INDEX consents_registration ON consents (registration_id, given_at);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY NOT NULL,
    registration_id TEXT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('confirm', 'unsubscribe', 'manage')),
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    used_at TIMESTAMP
);
CREATE UNIQUE INDEX tokens_hash ON tokens (token_hash);
CREATE INDEX tokens_registration ON tokens (registration_id, purpose);

CREATE TABLE outbox (
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
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id);

-- Append-only: never the address, IP or user agent.
CREATE TABLE ledger (
    id TEXT PRIMARY KEY NOT NULL,
    registration_id TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('signup', 'confirm', 'unsubscribe', 'import', 'erase')),
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    consent_text_version TEXT,
    source TEXT
);
CREATE INDEX ledger_registration ON ledger (registration_id, at);

-- HMAC-SHA256(secret_key, email_key) of people who asked to be erased.
CREATE TABLE suppressions (
    email_hash TEXT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL
);
