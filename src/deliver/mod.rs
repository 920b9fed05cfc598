//! Delivery: the outbox dispatcher that posts articles and digests to channels exactly
//! once, the digest composer, how an article becomes a post, and the notices that tell
//! a community's managers when delivery needs them.

pub mod digest;
pub mod notice;
pub mod outbox;
pub mod port;
pub mod post;
