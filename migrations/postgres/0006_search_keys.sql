-- Search keys: one GIN index answers "these words, in this community, among the newest
-- articles". Beside an article's words its keys hold, for each community following its
-- feed, a ' c<community>' key and a ' c<community>b<bucket>' key, and a ' b<bucket>' key,
-- where the bucket is the id's (id >> 14, 16,384 ids). GIN then intersects a common
-- word with the short posting lists of a community's newest buckets instead of reading
-- the word's million matches (FTS5's `c<id>` tokens, with time added). The leading
-- space keeps keys apart from words: the parser never puts a space in a lexeme.
CREATE FUNCTION herald_search_keys(search TSVECTOR, communities BIGINT[], id BIGINT)
    RETURNS TSVECTOR LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN search || array_to_tsvector(
        ARRAY(SELECT ' c' || c::text FROM unnest(communities) AS c)
        || ARRAY(SELECT ' c' || c::text || 'b' || (id >> 14)::text FROM unnest(communities) AS c)
        || (' b' || (id >> 14)::text));

-- No pending list: every search would scan it linearly until a vacuum merged it.
CREATE INDEX articles_search_keys ON articles
    USING GIN (herald_search_keys(search, community_ids, id)) WITH (fastupdate = off);
DROP INDEX articles_search;
DROP INDEX articles_communities;
-- The planner's statistics for the new expression (its keys' frequencies).
ANALYZE articles;
