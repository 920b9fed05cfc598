//! Ingest: the half of herald that turns feed URLs into stored articles.
//!
//! `poll` drives it: it claims due feeds from the store, `fetch`es them (bounded and
//! guarded), `parse`s them, and for each new item fetches the article page, extracts
//! and summarizes it, and stores it.

pub mod add;
pub mod charset;
pub mod feed;
pub mod fetch;
pub mod guard;
pub mod opml;
pub mod parse;
pub mod poll;
pub mod text;
pub mod unchanged;

pub use fetch::{FetchError, FetchKind, Fetched, Fetcher};
pub use parse::{FeedParseError, ParsedEntry, ParsedFeed, parse_feed, parse_feed_with};
pub use poll::{FeedOutcome, PollReport, Poller};
