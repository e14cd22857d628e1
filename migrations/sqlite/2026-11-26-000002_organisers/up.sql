-- Organiser accounts, their API tokens and browser sessions, and the export record.

CREATE TABLE organisers (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX organisers_email_key ON organisers (email_key);

-- Bearer tokens (`rc_…`): only SHA-256(token) is kept.
CREATE TABLE organiser_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    organiser_id TEXT NOT NULL REFERENCES organisers (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX organiser_tokens_hash ON organiser_tokens (token_hash);

-- Browser sessions: the cookie holds the id, the table only SHA-256(id).
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    organiser_id TEXT NOT NULL REFERENCES organisers (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Who exported what, when, and how far it got.
CREATE TABLE exports (
    id TEXT PRIMARY KEY NOT NULL,
    actor TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    filter TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('complete', 'partial', 'failed'))
);
CREATE INDEX exports_started ON exports (started_at);
