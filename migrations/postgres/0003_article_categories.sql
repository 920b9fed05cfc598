-- An item's categories, for subscription filters (`category:sport`): a JSON list of
-- strings, as on SQLite (migrations/0008_article_categories.sql).
ALTER TABLE articles ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
