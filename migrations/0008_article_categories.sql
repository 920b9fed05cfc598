-- An item's categories (RSS <category>, Atom <category term>, JSON Feed tags), for
-- subscription filters (`category:sport`): a JSON list of strings, as read. Articles
-- stored before this read as having none.
ALTER TABLE articles ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
