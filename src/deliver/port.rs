//! The outbound port: what the dispatcher needs from a chat platform — send a [`Reply`]
//! with an idempotency key, say why a send failed ([`SendError`]), how much fits in one
//! message — declared here, where the dispatcher owns it. Adapters in `platform/`
//! implement [`Platform`]; nothing in `deliver/` knows which platform it talks to.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::digest::DigestLimits;
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

/// [`Platform::regain_access`] for a platform that does not say.
pub const DEFAULT_REGAIN_ACCESS: &str = "give herald access there again";

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Sent, SendError>> + Send + 'a>>;

/// A chat platform herald can post to: the outbound side of an adapter.
pub trait Platform: Send + Sync {
    /// The `channels.platform` value this adapter serves.
    fn name(&self) -> &'static str;

    /// Sends `reply` to the channel `external_id`. `key` is the same on every retry of
    /// the same message; the platform must not show a message twice for one key.
    fn send<'a>(&'a self, external_id: &'a str, reply: &'a Reply, key: &'a str) -> SendFuture<'a>;

    /// How much fits in one message, for splitting digests (and previewing them).
    fn digest_limits(&self) -> DigestLimits;

    /// What a community is called there ("server", "room"), in messages to its people.
    fn community_noun(&self) -> &'static str {
        "community"
    }

    /// What a community's managers do to let herald post in a channel again, for the
    /// notice that says posting there is paused.
    fn regain_access(&self) -> &'static str {
        DEFAULT_REGAIN_ACCESS
    }

    /// A channel named in a message (a notice about it), linked where the platform can.
    fn channel_mention(&self, external_id: &str, name: Option<&str>) -> String {
        match name {
            Some(n) if !n.trim().is_empty() => format!("#{n}"),
            _ => external_id.to_string(),
        }
    }
}

/// The platforms herald posts to, shared by the dispatcher (which sends through them)
/// and the command core (which asks them for limits and words). Adapters register as
/// they start; a channel of a platform not registered gets the defaults.
#[derive(Clone, Default)]
pub struct Platforms(Arc<RwLock<Vec<Arc<dyn Platform>>>>);

impl Platforms {
    pub fn new(platforms: Vec<Arc<dyn Platform>>) -> Platforms {
        Platforms(Arc::new(RwLock::new(platforms)))
    }

    pub fn register(&self, platform: Arc<dyn Platform>) {
        self.write().push(platform);
    }

    /// The platform serving `channels.platform` = `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Platform>> {
        self.read().iter().find(|p| p.name() == name).cloned()
    }

    pub fn all(&self) -> Vec<Arc<dyn Platform>> {
        self.read().clone()
    }

    /// A digest part's limits on `name`'s platform.
    pub fn digest_limits(&self, name: &str) -> DigestLimits {
        self.get(name).map_or(DigestLimits::DEFAULT, |p| p.digest_limits())
    }

    /// What a community is called on `name`'s platform.
    pub fn community_noun(&self, name: &str) -> &'static str {
        self.get(name).map_or("community", |p| p.community_noun())
    }

    // A poisoned lock only means a registration panicked; the list itself is whole.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<dyn Platform>>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<dyn Platform>>> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
}
