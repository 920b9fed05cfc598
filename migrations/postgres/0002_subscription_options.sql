-- Per-subscription delivery options (issue 15), as SQLite's migration 0007.
ALTER TABLE subscriptions ADD COLUMN template TEXT;
ALTER TABLE subscriptions ADD COLUMN style TEXT NOT NULL DEFAULT 'embed'
    CHECK (style IN ('embed', 'compact', 'link'));
ALTER TABLE subscriptions ADD COLUMN mention TEXT;
ALTER TABLE subscriptions ADD COLUMN notify BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE subscriptions ADD COLUMN thread BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE subscriptions ADD COLUMN webhook BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE deliveries ADD COLUMN progress TEXT;
