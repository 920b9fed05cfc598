-- Each community asks for its own poll interval; a shared feed is fetched at the
-- shortest interval any follower asked for (feeds.poll_interval_s is that minimum,
-- recomputed by the store whenever a link or a request changes). Before this, the first
-- community to add a URL set the interval for everyone.
ALTER TABLE community_feeds ADD COLUMN poll_interval_s INTEGER;
UPDATE community_feeds
SET poll_interval_s = (SELECT poll_interval_s FROM feeds WHERE feeds.id = community_feeds.feed_id);
