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

/// An article post with its subscription's options: what [`Platform::deliver`] sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    /// The post itself; its `style` and `templated` say how it looks.
    pub reply: Reply,
    /// The platform's id of a group to ping with the post (nobody else is pinged).
    pub mention: Option<String>,
    /// Post so that people are notified, where the platform tells the two apart.
    pub notify: bool,
    /// Open a discussion thread on the post.
    pub thread: bool,
    /// Post under the feed's name and picture, where the platform can.
    pub persona: Option<Persona>,
    /// Words naming what the article is about (its feed's and title's words), for
    /// platforms that tag posts.
    pub topics: Vec<String>,
}

impl Post {
    /// A post with no options: the reply as it is.
    pub fn plain(reply: Reply) -> Post {
        Post {
            reply,
            mention: None,
            notify: false,
            thread: false,
            persona: None,
            topics: Vec::new(),
        }
    }
}

/// Who a post appears to come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    pub name: String,
    pub avatar_url: Option<String>,
}

/// How much one post holds (characters), for checking templates when they are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostLimits {
    /// A plain message's text.
    pub text: usize,
    /// A card's text.
    pub card: usize,
}

impl PostLimits {
    pub const DEFAULT: PostLimits = PostLimits { text: 4000, card: 4000 };
}

/// Where a post made in several platform calls records each step done, so a retry after
/// a crash or a lost answer continues from there instead of posting again.
pub trait Progress: Send + Sync {
    /// What was recorded by earlier attempts (the platform's own format).
    fn done(&self) -> Option<String>;
    /// Records `step` before the next platform call.
    fn record<'a>(
        &'a self,
        step: String,
    ) -> Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;
}

/// Progress that is not kept (previews, one-step posts in tests).
pub struct NoProgress;

impl Progress for NoProgress {
    fn done(&self) -> Option<String> {
        None
    }

    fn record<'a>(
        &'a self,
        _step: String,
    ) -> Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>> {
        Box::pin(async { Ok(()) })
    }
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

    /// Sends an article post with its subscription's options. `progress` keeps the steps
    /// of a post that takes several calls. Platforms without options send the reply.
    fn deliver<'a>(
        &'a self,
        external_id: &'a str,
        post: &'a Post,
        key: &'a str,
        _progress: &'a dyn Progress,
    ) -> SendFuture<'a> {
        self.send(external_id, &post.reply, key)
    }

    /// How much fits in one message, for splitting digests (and previewing them).
    fn digest_limits(&self) -> DigestLimits;

    /// Whether this process posts here now. A platform that one process at a time
    /// serves (Matrix: the sync leader) is not ready in the others, and the dispatcher
    /// leaves its channels to the process where it is.
    fn ready(&self) -> bool {
        true
    }

    /// How much one post holds, for checking a template when it is set.
    fn post_limits(&self) -> PostLimits {
        PostLimits::DEFAULT
    }

    /// A group to ping as the user named it (`@role`, a mention, an id) → the id stored
    /// with the subscription, or why it cannot be pinged here.
    fn parse_mention(&self, _text: &str) -> Result<String, String> {
        Err("posts here cannot ping a group".into())
    }

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

    /// A post's limits on `name`'s platform.
    pub fn post_limits(&self, name: &str) -> PostLimits {
        self.get(name).map_or(PostLimits::DEFAULT, |p| p.post_limits())
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
