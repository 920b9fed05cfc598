-- Communities (a Discord server, a Matrix room, the console) each keep their own list of
-- feeds, channels and subscriptions. A feed URL is still fetched once for everyone.
CREATE TABLE communities (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,
    external_id TEXT NOT NULL,
    name        TEXT,
    -- NULL: the configured default.
    max_feeds   INTEGER,
    created_at  INTEGER NOT NULL,
    UNIQUE(platform, external_id)
);

CREATE TABLE community_feeds (
    community_id INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    feed_id      INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    -- Paused by this community's admins: nothing from it is delivered to this community.
    paused       INTEGER NOT NULL DEFAULT 0,
    added_by     TEXT,
    added_at     INTEGER NOT NULL,
    PRIMARY KEY (community_id, feed_id)
);
CREATE INDEX community_feeds_feed ON community_feeds(feed_id);

CREATE TABLE channels (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id) ON DELETE CASCADE,
    platform        TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    name            TEXT,
    digest_spec     TEXT,
    digest_tz       TEXT,
    -- End of the last digest window taken; the next digest starts there.
    digest_last_end INTEGER,
    digest_next_at  INTEGER,
    -- Set when the platform refused us for good (no access, unknown channel).
    paused_reason   TEXT,
    created_at      INTEGER NOT NULL,
    UNIQUE(platform, external_id)
);
CREATE INDEX channels_digest_due ON channels(digest_next_at) WHERE digest_next_at IS NOT NULL;

CREATE TABLE subscriptions (
    id            INTEGER PRIMARY KEY,
    channel_id    INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    feed_id       INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    mode          TEXT NOT NULL CHECK (mode IN ('instant', 'digest')),
    include_words TEXT NOT NULL DEFAULT '[]',
    exclude_words TEXT NOT NULL DEFAULT '[]',
    created_by    TEXT,
    created_at    INTEGER NOT NULL,
    UNIQUE(channel_id, feed_id)
);
CREATE INDEX subscriptions_feed ON subscriptions(feed_id, mode);

-- The outbox: one row per (channel, article) to post. The idempotency key is written
-- before the first attempt and reused on every retry.
CREATE TABLE deliveries (
    id                  INTEGER PRIMARY KEY,
    channel_id          INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    article_id          INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    idem_key            TEXT NOT NULL UNIQUE,
    state               TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    last_error          TEXT,
    sent_at             INTEGER,
    platform_message_id TEXT,
    created_at          INTEGER NOT NULL,
    UNIQUE(channel_id, article_id)
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';

-- Digests are deliveries too: one row per (channel, window), parts sent in order.
CREATE TABLE digests (
    id              INTEGER PRIMARY KEY,
    channel_id      INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    window_start    INTEGER NOT NULL,
    window_end      INTEGER NOT NULL,
    idem_key        TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'empty', 'failed')),
    parts_sent      INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE(channel_id, window_end)
);
CREATE INDEX digests_due ON digests(next_attempt_at) WHERE state = 'pending';

-- Feeds from before communities belong to the console's community.
INSERT INTO communities (platform, external_id, name, created_at)
VALUES ('console', 'local', 'console', CAST(strftime('%s', 'now') AS INTEGER));
INSERT INTO community_feeds (community_id, feed_id, added_at)
SELECT (SELECT id FROM communities WHERE platform = 'console' AND external_id = 'local'), id, created_at
FROM feeds;

-- What the console channel was sent, by idempotency key: the console's own record of
-- posts (what a chat platform keeps server-side), so a resend after a crash is not
-- shown twice.
CREATE TABLE console_posts (
    idem_key   TEXT PRIMARY KEY,
    channel    TEXT NOT NULL,
    body       TEXT NOT NULL,
    posted_at  INTEGER NOT NULL
);
