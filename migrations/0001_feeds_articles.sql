-- Feeds are global: one row (and one fetch) per URL, whoever follows it.
-- Times are unix seconds, UTC.
CREATE TABLE feeds (
    id              INTEGER PRIMARY KEY,
    url             TEXT NOT NULL UNIQUE,
    title           TEXT,
    site_url        TEXT,
    etag            TEXT,
    last_modified   TEXT,
    poll_interval_s INTEGER NOT NULL,
    next_poll_at    INTEGER NOT NULL,
    last_polled_at  INTEGER,
    last_success_at INTEGER,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_error_kind TEXT,
    -- NULL while the feed runs; 'paused' by an admin, or the reason it was disabled.
    disabled_reason TEXT,
    -- 0 until the first successful poll: that poll's items are stored as already seen.
    primed          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX feeds_due ON feeds(next_poll_at) WHERE disabled_reason IS NULL;

CREATE TABLE articles (
    id           INTEGER PRIMARY KEY,
    feed_id      INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    item_key     TEXT NOT NULL,
    url          TEXT,
    title        TEXT,
    author       TEXT,
    published_at INTEGER,
    fetched_at   INTEGER NOT NULL,
    text         TEXT NOT NULL DEFAULT '',
    summary      TEXT NOT NULL DEFAULT '',
    lang         TEXT,
    image_url    TEXT,
    -- 'page' when the text came from the article page, 'feed' when from the feed itself.
    text_source  TEXT NOT NULL DEFAULT 'feed',
    -- 1 for items found by a feed's first poll: stored and searchable, never announced.
    backfill     INTEGER NOT NULL DEFAULT 0,
    UNIQUE(feed_id, item_key)
);
CREATE INDEX articles_feed_time ON articles(feed_id, fetched_at DESC);

CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, summary, text,
    content='articles', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);

CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, summary, text)
    VALUES (new.id, coalesce(new.title, ''), new.summary, new.text);
END;
CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)
    VALUES ('delete', old.id, coalesce(old.title, ''), old.summary, old.text);
END;
CREATE TRIGGER articles_au AFTER UPDATE OF title, summary, text ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, summary, text)
    VALUES ('delete', old.id, coalesce(old.title, ''), old.summary, old.text);
    INSERT INTO articles_fts(rowid, title, summary, text)
    VALUES (new.id, coalesce(new.title, ''), new.summary, new.text);
END;
