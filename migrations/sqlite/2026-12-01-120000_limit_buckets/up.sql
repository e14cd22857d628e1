-- Rate-limit and login-throttle buckets shared by every instance (used on
-- PostgreSQL; SQLite keeps them in the process). `key` is a keyed hash, never
-- a raw address; `tat` is the bucket's theoretical arrival time in unix
-- milliseconds; `taken` is the answer of the last take.
CREATE TABLE limit_buckets (
    key TEXT PRIMARY KEY NOT NULL,
    tat BIGINT NOT NULL,
    taken BOOLEAN NOT NULL
);
CREATE INDEX limit_buckets_tat ON limit_buckets (tat);
