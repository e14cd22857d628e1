-- Digests: a daily or weekly summary for each organiser who asks for one. The
-- outbox row of a digest stores its period's key and its window [from, to) in
-- UTC; its numbers are counted from the stored events when it is rendered.
-- One row per organiser and period, however many workers queue it.

ALTER TABLE organisers ADD COLUMN digest TEXT NOT NULL DEFAULT 'off'
    CONSTRAINT organisers_digest_check CHECK (digest IN ('daily', 'weekly', 'off'));

-- daily:2026-11-26 or weekly:2026-W48, in admin.digest_timezone.
ALTER TABLE outbox ADD COLUMN digest_key TEXT;
ALTER TABLE outbox ADD COLUMN window_from TIMESTAMP;
ALTER TABLE outbox ADD COLUMN window_to TIMESTAMP;
CREATE UNIQUE INDEX outbox_organiser_digest ON outbox (organiser_id, digest_key);
