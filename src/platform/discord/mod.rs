//! Discord through serenity: the [`Platform`] that posts through the outbox, and the bot
//! (gateway + slash commands) that turns interactions into core [`Command`]s.
//!
//! A Discord guild is a herald community (`ensure_community("discord", guild_id)`), a
//! Discord channel a herald channel. Only the non-privileged GUILDS intent is used:
//! slash commands arrive as interactions, and guild/channel deletions pause posting.
//!
//! [`Command`]: crate::commands::parse::Command

pub mod commands;
mod handler;
pub mod post;
pub mod render;
pub mod shards;

use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{ChannelId, GatewayIntents, Http, HttpBuilder, Permissions, ShardManager};
use serenity::builder::{CreateAllowedMentions, CreateMessage};
use serenity::http::HttpError;
use serenity::model::channel::Nonce;

use super::held::HeldLeases;
use super::{Platform, SendError, SendFuture, Sent};
use crate::clock::SharedClock;
use crate::commands::Core;
use crate::config::{CommunityConfig, DiscordConfig};
use crate::deliver::digest::DigestLimits;
use crate::deliver::port::{Post, PostLimits, Progress};

impl DigestLimits {
    /// Discord caps an embed description at 4096 characters, all embeds of a
    /// message together at 6000, and a message at 10 embeds. 4000 counted
    /// characters fit even an adapter that puts the whole part into one
    /// description, and leave ~2000 characters of the 6000 for markup (links,
    /// bold titles, separators: ~200 per item at 10 items). 10 items allow one
    /// embed per item or per section.
    pub const DISCORD: DigestLimits = DigestLimits { max_chars: 4000, max_items: 10 };
}
use crate::reply::Reply;
use crate::store::Store;

pub use handler::{Handler, role_for};

/// The `channels.platform` and `communities.platform` value.
pub const PLATFORM: &str = "discord";

/// When a 429 reaches herald without its `retry_after` (serenity keeps only the status
/// and Discord's JSON error, and its own rate limiter, on in production, already waits
/// out the advertised time and retries), wait this long before the next try.
pub const RATE_LIMIT_FALLBACK: Duration = Duration::from_secs(2);

/// serenity's REST client for this configuration. With `DISCORD_API_BASE` (tests) REST
/// goes to that base and serenity's rate limiter is off, since it would bypass the base.
pub fn http(cfg: &DiscordConfig) -> Http {
    let mut b = HttpBuilder::new(&cfg.token);
    if let Some(base) = &cfg.api_base {
        b = b.proxy(base.clone()).ratelimiter_disabled(true);
    }
    let mut http = b.build();
    // Every message, whatever builds it: a feed title saying @everyone pings nobody.
    http.default_allowed_mentions = Some(CreateAllowedMentions::new());
    http
}

/// Posts outbox messages to Discord channels.
pub struct DiscordPlatform {
    http: Arc<Http>,
    /// Channel types, forum tags and webhooks, learnt as posts need them.
    posts: post::PostState,
}

impl DiscordPlatform {
    pub fn new(http: Arc<Http>) -> DiscordPlatform {
        DiscordPlatform { http, posts: post::PostState::default() }
    }
}

/// A role as a user names it: `<@&id>` (what Discord's role picker inserts), `@&id`, or
/// the id.
pub fn role_id(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t.strip_prefix("<@&").and_then(|r| r.strip_suffix('>')).unwrap_or(t);
    let t = t.strip_prefix("@&").unwrap_or(t);
    t.parse::<NonZeroU64>().ok().map(|id| id.to_string())
}

impl Platform for DiscordPlatform {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn send<'a>(&'a self, external_id: &'a str, reply: &'a Reply, key: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let Ok(id) = external_id.parse::<NonZeroU64>() else {
                return Err(SendError::Permanent(format!(
                    "\"{external_id}\" is not a Discord channel id"
                )));
            };
            let embeds = render::embeds(reply).iter().map(render::Embed::to_builder).collect();
            // The outbox key as nonce with enforce_nonce: Discord returns the first message
            // again instead of posting a second one for the same key.
            let message = CreateMessage::new()
                .embeds(embeds)
                .nonce(Nonce::String(key.to_string()))
                .enforce_nonce(true)
                .allowed_mentions(CreateAllowedMentions::new());
            match ChannelId::from(id).send_message(&*self.http, message).await {
                Ok(m) => Ok(Sent { message_id: Some(m.id.to_string()) }),
                Err(e) => Err(classify(e)),
            }
        })
    }

    fn deliver<'a>(
        &'a self,
        external_id: &'a str,
        post: &'a Post,
        key: &'a str,
        progress: &'a dyn Progress,
    ) -> SendFuture<'a> {
        Box::pin(async move {
            let Ok(id) = external_id.parse::<NonZeroU64>() else {
                return Err(SendError::Permanent(format!(
                    "\"{external_id}\" is not a Discord channel id"
                )));
            };
            self.posts.deliver(&self.http, id, post, key, progress).await
        })
    }

    fn digest_limits(&self) -> DigestLimits {
        DigestLimits::DISCORD
    }

    fn post_limits(&self) -> PostLimits {
        PostLimits { text: post::CONTENT_MAX, card: render::DESCRIPTION_MAX }
    }

    fn parse_mention(&self, text: &str) -> Result<String, String> {
        role_id(text).ok_or_else(|| {
            "name the role as a mention (type @ and pick it) or by its id".to_string()
        })
    }

    fn community_noun(&self) -> &'static str {
        "server"
    }

    fn regain_access(&self) -> &'static str {
        "give herald access there again (View Channel, Send Messages and Embed Links)"
    }

    fn channel_mention(&self, external_id: &str, _name: Option<&str>) -> String {
        // Discord renders `<#id>` as the channel's name, linked.
        match external_id.parse::<NonZeroU64>() {
            Ok(id) => format!("<#{id}>"),
            Err(_) => external_id.to_string(),
        }
    }
}

/// What herald needs to post in a channel, by the name Discord shows in its settings.
/// Embed Links matters too: posts are embeds, which Discord drops without it.
pub fn missing_post_permissions(app: Permissions, thread: bool) -> Vec<&'static str> {
    if app.contains(Permissions::ADMINISTRATOR) {
        return Vec::new();
    }
    let send = if thread {
        (Permissions::SEND_MESSAGES_IN_THREADS, "Send Messages in Threads")
    } else {
        (Permissions::SEND_MESSAGES, "Send Messages")
    };
    [(Permissions::VIEW_CHANNEL, "View Channel"), send, (Permissions::EMBED_LINKS, "Embed Links")]
        .into_iter()
        .filter(|(p, _)| !app.contains(*p))
        .map(|(_, name)| name)
        .collect()
}

/// What the outbox should do about a failed REST call.
pub fn classify(e: serenity::Error) -> SendError {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            let status = r.status_code.as_u16();
            let what =
                format!("Discord answered {status}: {} (code {})", r.error.message, r.error.code);
            match status {
                429 => SendError::RateLimited { retry_after: RATE_LIMIT_FALLBACK },
                403 => SendError::Permanent(format!(
                    "herald may not post in this channel (missing access or permission): {what}"
                )),
                404 => SendError::Permanent(format!("the channel no longer exists: {what}")),
                _ => SendError::Transient(what),
            }
        }
        other => SendError::Transient(other.to_string()),
    }
}

/// A connected bot: its gateway runs in the background until [`DiscordBot::stop`].
pub struct DiscordBot {
    pub http: Arc<Http>,
    shards: Arc<ShardManager>,
    task: tokio::task::JoinHandle<()>,
    /// One lease per gateway shard this process runs: a second process configured
    /// with the same shard refuses to start instead of answering every command twice.
    leases: Option<super::held::HeldLeases>,
}

impl DiscordBot {
    /// Builds the client (REST + gateway) and starts it; slash commands are registered
    /// when the gateway is ready.
    /// `lease` is this process's holder id and the length of its shard leases.
    pub async fn start(
        cfg: &DiscordConfig,
        core: Core,
        store: Store,
        clock: SharedClock,
        community: CommunityConfig,
        lease: (&str, Duration),
    ) -> anyhow::Result<DiscordBot> {
        // `auto` takes the count Discord gives when it connects: one process only.
        let leases = match cfg.shards.span() {
            Some((first, last, total)) => {
                let names = (first..=last).map(|n| format!("discord-shard-{n}-of-{total}"));
                let (holder, ttl) = lease;
                let held = HeldLeases::take(&store, clock.clone(), holder, names.collect(), ttl)
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "HERALD_DISCORD_SHARDS={}: {e}; give each process sharing this \
                             database its own shards (e.g. 0-1/4 and 2-3/4)",
                            cfg.shards
                        )
                    })?;
                Some(held)
            }
            None => None,
        };
        let handler = Handler::new(core, store, clock, community, cfg.dev_guild);
        // new_with_http: `.token()` would replace the configured Http (proxy and all).
        let mut client =
            serenity::client::ClientBuilder::new_with_http(http(cfg), GatewayIntents::GUILDS)
                .event_handler(handler)
                .await?;
        let (http, shards) = (client.http.clone(), client.shard_manager.clone());
        let span = cfg.shards.span();
        let task = tokio::spawn(async move {
            let started = match span {
                // serenity reads the range's end as the last shard, inclusive.
                Some((first, last, total)) => client.start_shard_range(first..last, total).await,
                None => client.start_autosharded().await,
            };
            if let Err(e) = started {
                tracing::error!("Discord client stopped: {e}");
            }
        });
        Ok(DiscordBot { http, shards, task, leases })
    }

    /// The platform that posts through this bot's REST client (and its rate limiter).
    pub fn platform(&self) -> Arc<dyn Platform> {
        Arc::new(DiscordPlatform::new(self.http.clone()))
    }

    /// For `/readyz`: every shard's gateway connection is up.
    pub fn connected_probe(&self) -> crate::service::health::ConnectedProbe {
        let shards = self.shards.clone();
        std::sync::Arc::new(move || {
            let shards = shards.clone();
            Box::pin(async move {
                let runners = shards.runners.lock().await;
                !runners.is_empty()
                    && runners
                        .values()
                        .all(|r| r.stage == serenity::gateway::ConnectionStage::Connected)
            })
        })
    }

    pub async fn stop(self) {
        self.shards.shutdown_all().await;
        self.task.abort();
        let _ = self.task.await;
        if let Some(leases) = self.leases {
            leases.release().await;
        }
    }
}

impl super::Adapter for DiscordBot {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn platform(&self) -> Arc<dyn Platform> {
        DiscordBot::platform(self)
    }

    fn connected_probe(&self, _clock: SharedClock) -> crate::service::health::ConnectedProbe {
        DiscordBot::connected_probe(self)
    }

    fn stop(self: Box<Self>) -> futures_util::future::BoxFuture<'static, ()> {
        Box::pin(DiscordBot::stop(*self))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posting_needs_view_send_and_embeds_and_threads_their_own_send() {
        let all = Permissions::VIEW_CHANNEL
            | Permissions::SEND_MESSAGES
            | Permissions::SEND_MESSAGES_IN_THREADS
            | Permissions::EMBED_LINKS;
        assert!(missing_post_permissions(all, false).is_empty());
        assert!(missing_post_permissions(all, true).is_empty());
        let no_send = all - Permissions::SEND_MESSAGES;
        assert_eq!(missing_post_permissions(no_send, false), ["Send Messages"]);
        assert!(missing_post_permissions(no_send, true).is_empty(), "threads use their own");
        let no_thread = all - Permissions::SEND_MESSAGES_IN_THREADS;
        assert_eq!(missing_post_permissions(no_thread, true), ["Send Messages in Threads"]);
        assert_eq!(
            missing_post_permissions(Permissions::empty(), false),
            ["View Channel", "Send Messages", "Embed Links"]
        );
        assert!(missing_post_permissions(Permissions::ADMINISTRATOR, false).is_empty());
    }
}
