-- Privacy under attack: rows that make every answer the same work, the
-- signup cookie's wrong-code counters, and the details each confirmation carries.

-- A member's signup writes this row, never a consent row.
CREATE TABLE signup_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    registration_id TEXT NOT NULL REFERENCES registrations (id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL
);
CREATE INDEX signup_attempts_registration ON signup_attempts (registration_id);

-- Resend and manage requests, one row per address keyed by
-- HMAC(secret_key, email_key), written whatever the address's state; it holds
-- the requests' email cooldown.
CREATE TABLE address_requests (
    email_hash TEXT PRIMARY KEY NOT NULL,
    last_request_at TIMESTAMP NOT NULL,
    last_email_at TIMESTAMP
);

-- Wrong codes per signup cookie, keyed by a MAC of the cookie's nonce.
CREATE TABLE code_attempts (
    cookie_hash TEXT PRIMARY KEY NOT NULL,
    attempts INTEGER NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX code_attempts_expiry ON code_attempts (expires_at);

-- The details and consent evidence of the signup whose email carried a
-- confirmation token; confirming with that token applies them.
CREATE TABLE confirmation_details (
    token_id TEXT PRIMARY KEY NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    organisation TEXT,
    org_type TEXT,
    country TEXT,
    timezone TEXT,
    interests TEXT NOT NULL,
    source TEXT NOT NULL,
    signed_up_at TIMESTAMP NOT NULL,
    ip TEXT,
    user_agent TEXT,
    text_version TEXT NOT NULL REFERENCES consent_texts (version),
    consent_id TEXT
);
