//! Platform adapters. Each one turns a neutral [`Reply`] into its platform's message
//! and sends it with the outbox's idempotency key; the outbox never knows which
//! platform it talks to.

pub mod console;
pub mod discord;
pub mod matrix;
pub mod terminal;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::deliver::digest::DigestLimits;
use crate::reply::Reply;

/// What the platform said about a sent message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sent {
    pub message_id: Option<String>,
}

/// Why a send failed, which decides what the outbox does next.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    /// Slow down: try again after this long (not counted as a failure).
    #[error("rate limited; retry after {}ms", retry_after.as_millis())]
    RateLimited { retry_after: Duration },
    /// A hiccup or an unknown outcome (5xx, no answer in time): retry with backoff and
    /// the same key.
    #[error("{0}")]
    Transient(String),
    /// The platform will never accept this (no access, unknown channel): the channel is
    /// paused with this reason.
    #[error("{0}")]
    Permanent(String),
}

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Sent, SendError>> + Send + 'a>>;

/// A chat platform herald can post to.
pub trait Platform: Send + Sync {
    /// The `channels.platform` value this adapter serves.
    fn name(&self) -> &'static str;

    /// Sends `reply` to the channel `external_id`. `key` is the same on every retry of
    /// the same message; the platform must not show a message twice for one key.
    fn send<'a>(&'a self, external_id: &'a str, reply: &'a Reply, key: &'a str) -> SendFuture<'a>;

    /// How much fits in one message, for splitting digests.
    fn digest_limits(&self) -> DigestLimits;

    /// A channel named in a message (a notice about it), linked where the platform can.
    fn channel_mention(&self, external_id: &str, name: Option<&str>) -> String {
        match name {
            Some(n) if !n.trim().is_empty() => format!("#{n}"),
            _ => external_id.to_string(),
        }
    }
}
