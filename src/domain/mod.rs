//! Domain types that can only hold valid values: once a `FeedUrl` exists, nobody
//! downstream checks it again.

pub mod feed_url;
pub mod filter;
pub mod schedule;
pub mod template;
pub mod units;

pub use feed_url::FeedUrl;
