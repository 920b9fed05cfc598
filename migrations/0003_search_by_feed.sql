-- Search scoped to a community's feeds must not look at every match in the archive:
-- each article's feed becomes a token (`feed<id>`) in the full-text index, so FTS5
-- intersects the query with the community's feeds inside the index. The Porter stemmer
-- lets "talks" find "talk".
ALTER TABLE articles ADD COLUMN feed_tag TEXT GENERATED ALWAYS AS ('feed' || feed_id) VIRTUAL;

DROP TRIGGER articles_ai;
DROP TRIGGER articles_ad;
DROP TRIGGER articles_au;
DROP TABLE articles_fts;

CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, summary, text, feed_tag,
    content='articles', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');

CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, summary, text, feed_tag)
    VALUES (new.id, coalesce(new.title, ''), new.summary, new.text, new.feed_tag);
END;
CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, summary, text, feed_tag)
    VALUES ('delete', old.id, coalesce(old.title, ''), old.summary, old.text, old.feed_tag);
END;
CREATE TRIGGER articles_au AFTER UPDATE OF title, summary, text ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, summary, text, feed_tag)
    VALUES ('delete', old.id, coalesce(old.title, ''), old.summary, old.text, old.feed_tag);
    INSERT INTO articles_fts(rowid, title, summary, text, feed_tag)
    VALUES (new.id, coalesce(new.title, ''), new.summary, new.text, new.feed_tag);
END;

CREATE INDEX articles_fetched ON articles(fetched_at);
