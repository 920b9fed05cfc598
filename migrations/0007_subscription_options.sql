-- Per-subscription delivery options (issue 15). Defaults keep today's posts.

-- The message template (NULL: the default post), validated when it was set.
ALTER TABLE subscriptions ADD COLUMN template TEXT;
-- 'embed' (a card), 'compact' (title and link on one line), 'link' (the bare link).
ALTER TABLE subscriptions ADD COLUMN style TEXT NOT NULL DEFAULT 'embed'
    CHECK (style IN ('embed', 'compact', 'link'));
-- The platform's id of a group to ping with each post (NULL: nobody is pinged).
ALTER TABLE subscriptions ADD COLUMN mention TEXT;
-- Post so that people are notified (where the platform tells the two apart).
ALTER TABLE subscriptions ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
-- Open a discussion thread on each post.
ALTER TABLE subscriptions ADD COLUMN thread INTEGER NOT NULL DEFAULT 0;
-- Post under the feed's own name and picture (a webhook), where herald may.
ALTER TABLE subscriptions ADD COLUMN webhook INTEGER NOT NULL DEFAULT 0;

-- A post made in several platform calls (a message, then its thread) records each step
-- done here before the next, so a retry continues instead of posting again.
ALTER TABLE deliveries ADD COLUMN progress TEXT;
