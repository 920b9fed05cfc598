-- Delivery that keeps order, never stalls and never gives up silently (issue 13).

-- One random id per database, part of every idempotency key: a recreated database or a
-- second installation on the same bot account never reuses a key inside the platform's
-- dedupe window (which would swallow a new post as a duplicate).
CREATE TABLE installation (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    id       TEXT NOT NULL
);
INSERT INTO installation (only_row, id) VALUES (1, lower(hex(randomblob(4))));

-- A channel's posts go out in the articles' publication order: `sort_at` is the
-- article's date (never later than when it was fetched), ties in feed order.
ALTER TABLE deliveries ADD COLUMN sort_at INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET sort_at = (
    SELECT coalesce(min(a.published_at, a.fetched_at), a.fetched_at)
    FROM articles a WHERE a.id = deliveries.article_id
) WHERE state = 'pending';
CREATE INDEX deliveries_channel_order ON deliveries(channel_id, sort_at, article_id)
    WHERE state = 'pending';

-- A channel is served by one sender at a time: it holds the channel until this lease
-- runs out (a crash only delays the channel by the lease).
ALTER TABLE channels ADD COLUMN send_lease_until INTEGER;

-- Counts the times a channel went from posting to paused, so each pause is announced
-- once whoever paused it (the dispatcher, a Discord event, a Matrix kick).
ALTER TABLE channels ADD COLUMN pause_count INTEGER NOT NULL DEFAULT 0;
UPDATE channels SET pause_count = 1 WHERE paused_reason IS NOT NULL;
CREATE TRIGGER channels_pause_episode AFTER UPDATE OF paused_reason ON channels
WHEN old.paused_reason IS NULL AND new.paused_reason IS NOT NULL
BEGIN
    UPDATE channels SET pause_count = pause_count + 1 WHERE id = new.id;
END;

-- What a community's managers must learn: a channel paused, a feed disabled, posts given
-- up. One row per (community, event, subject, episode): once per change of state.
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    event           TEXT NOT NULL CHECK (event IN ('channel-paused', 'feed-disabled', 'posts-expired')),
    -- The channel (paused, posts expired) or feed (disabled) it is about.
    subject_id      INTEGER NOT NULL,
    -- Which change of state: the channel's pause_count, the feed's last poll, the
    -- channel's last successful post.
    episode         INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'obsolete', 'failed')),
    -- Where it is (being) posted; kept across retries so the idempotency key holds.
    channel_id      INTEGER REFERENCES channels(id) ON DELETE SET NULL,
    -- Channels that refused it for good, as a JSON array.
    refused_by      TEXT NOT NULL DEFAULT '[]',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE(community_id, event, subject_id, episode)
);
CREATE INDEX notices_due ON notices(next_attempt_at) WHERE state = 'pending';
