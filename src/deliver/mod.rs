//! Delivery: the outbox dispatcher that posts articles and digests to channels exactly
//! once, the digest composer, and how an article becomes a post.

pub mod digest;
pub mod outbox;
pub mod post;
