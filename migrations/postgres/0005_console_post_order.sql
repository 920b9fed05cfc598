-- The console's posts in the order they were recorded (SQLite keeps that order in the
-- rowid; PostgreSQL has none): posts of the same second are listed as they were made.
ALTER TABLE console_posts ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
