//! An article post with its subscription's options, on Discord: a message (a card, one
//! line or the bare link; a role ping), a thread on it, a forum post in a forum channel,
//! or the feed's own name and picture through herald's webhook in the channel.
//!
//! A message carries the outbox key as nonce with enforce_nonce, so a resend returns it
//! instead of posting again. Thread, forum post and webhook calls have no nonce, so each
//! multi-step post records its steps through [`Progress`] before the next call, and a
//! retry whose answer was lost looks for what it made before making it again
//! (ARCHITECTURE.md, "Invariants", names the window that remains).

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serenity::all::{ChannelId, GuildId, Http, MessageId, WebhookId};
use serenity::http::{HttpError, LightMethod, Request, Route};

use super::classify;
use super::render::{self, Embed};
use crate::deliver::port::{Post, Progress, SendError, Sent};
use crate::domain::template::{Piece, PostStyle, Templated};
use crate::reply::Reply;

/// Discord's channel types herald posts to as forums: each post its own thread.
const FORUM: u64 = 15;
const MEDIA: u64 = 16;
/// How long what herald learnt about a channel (its type, tags, webhook) is trusted.
const CHANNEL_TTL: Duration = Duration::from_secs(600);
/// A message's text, a thread's name, a webhook's name.
pub const CONTENT_MAX: usize = 2000;
pub const THREAD_NAME_MAX: usize = 100;
pub const WEBHOOK_NAME_MAX: usize = 80;
/// Tags on one forum post.
pub const TAGS_MAX: usize = 5;
/// The name of herald's webhook in a channel.
const WEBHOOK_NAME: &str = "herald";
/// Discord's epoch (2015-01-01) in milliseconds, for ids made from times.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// What herald knows about a channel it posts to.
#[derive(Debug, Clone)]
struct ChannelInfo {
    kind: u64,
    guild_id: Option<u64>,
    /// A forum's tags: (id, lower-cased name).
    tags: Vec<(String, String)>,
}

/// herald's webhook in a channel, or why there is none.
#[derive(Debug, Clone)]
enum Hook {
    Ready {
        id: u64,
        token: String,
    },
    /// Herald may not manage webhooks there (told once, then posts as itself).
    Denied,
}

/// Caches of the channel facts and webhooks a post needs.
#[derive(Default)]
pub struct PostState {
    channels: Mutex<HashMap<u64, (Instant, ChannelInfo)>>,
    hooks: Mutex<HashMap<u64, (Instant, Hook)>>,
    bot_id: Mutex<Option<u64>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding a cache leaves it as it was: still a valid cache.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The progress record's steps.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Steps {
    /// The message posted (before its thread is opened).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// When a call without a nonce (forum post, webhook) was first made, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    started_ms: Option<u64>,
}

impl Steps {
    fn read(progress: &dyn Progress) -> Steps {
        progress.done().and_then(|d| serde_json::from_str(&d).ok()).unwrap_or_default()
    }

    async fn save(&self, progress: &dyn Progress) -> Result<(), SendError> {
        let text = serde_json::to_string(self)
            .map_err(|e| SendError::Transient(format!("recording a post's progress: {e}")))?;
        progress.record(text).await
    }
}

/// The post as a message: its text (a ping first) and its embeds.
pub fn message(reply: &Reply, mention: Option<&str>) -> (String, Vec<Embed>) {
    let ping = mention.map(|id| format!("<@&{id}>")).unwrap_or_default();
    let room = CONTENT_MAX - ping.chars().count() - 1;
    let (text, embeds) = match reply.style {
        PostStyle::Embed => (String::new(), render::card(reply)),
        PostStyle::Compact => {
            let text = match &reply.templated {
                Some(t) => template_text(t, room),
                None => {
                    // One line: the title, and the link without its preview card.
                    let link = bare_url(reply.url.as_deref())
                        .map(|u| format!(" <{u}>"))
                        .unwrap_or_default();
                    let title = one_line(reply.title.as_deref().unwrap_or("(untitled)"));
                    let room = room.saturating_sub(link.chars().count() + 4);
                    format!("**{}**{link}", render::truncate(&render::escape(&title), room))
                }
            };
            (text, Vec::new())
        }
        PostStyle::Link => match bare_url(reply.url.as_deref()) {
            Some(u) if u.chars().count() <= room => (u, Vec::new()),
            // No link to unfurl: the card.
            _ => (String::new(), render::card(reply)),
        },
    };
    let content = match (ping.is_empty(), text.is_empty()) {
        (true, _) => text,
        (false, true) => ping,
        (false, false) => format!("{ping} {text}"),
    };
    (content, embeds)
}

/// A filled template as Discord text of at most `max` characters: its markup as written,
/// feed text escaped, links bare.
pub fn template_text(t: &Templated, max: usize) -> String {
    pieces_text(&t.template.render(&t.fields, max, &cost))
}

/// A feed's URL written bare in a message: an http(s) URL with nothing Discord would
/// read as markup around or inside it (`<…>` mentions, code, spoilers).
fn bare_url(url: Option<&str>) -> Option<String> {
    render::safe_url(url).filter(|u| !u.contains(['<', '>', '`', '|']))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A piece's length as Discord counts it once written.
fn cost(p: &Piece) -> usize {
    piece_text(p).chars().count()
}

fn piece_text(p: &Piece) -> String {
    match p {
        Piece::Markup(s) => s.clone(),
        Piece::Text(s) => render::escape(s),
        Piece::Url(u) => bare_url(Some(u)).unwrap_or_else(|| render::escape(u)),
    }
}

fn pieces_text(pieces: &[Piece]) -> String {
    pieces.iter().map(piece_text).collect()
}

/// Exactly who may be pinged: the subscription's role, or nobody.
pub fn allowed_mentions(mention: Option<&str>) -> Value {
    match mention {
        Some(id) => json!({"parse": [], "roles": [id]}),
        None => json!({"parse": []}),
    }
}

/// A thread's name from an article title: one line, at most 100 characters, cut at a
/// word where one is near.
pub fn thread_name(title: Option<&str>) -> String {
    let title = one_line(title.unwrap_or_default());
    let title = if title.is_empty() { "(untitled)".to_string() } else { title };
    if title.chars().count() <= THREAD_NAME_MAX {
        return title;
    }
    let cut: String = title.chars().take(THREAD_NAME_MAX - 1).collect();
    let at_word = match cut.rfind(' ') {
        Some(i) if cut[..i].chars().count() >= THREAD_NAME_MAX / 2 => cut[..i].to_string(),
        _ => cut,
    };
    format!("{}…", at_word.trim_end())
}

/// A webhook post's name: the feed's, within Discord's rules (1–80 characters, not
/// naming Discord or Clyde).
pub fn webhook_username(name: &str) -> String {
    let mut out = one_line(name);
    loop {
        let cleaned = ["discord", "clyde"].iter().fold(out.clone(), |s, w| without(&s, w));
        if cleaned == out {
            break;
        }
        out = cleaned;
    }
    let out: String = one_line(&out).chars().take(WEBHOOK_NAME_MAX).collect();
    if out.is_empty() { WEBHOOK_NAME.to_string() } else { out }
}

/// `s` without any case of the ASCII `word`.
fn without(s: &str, word: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let w: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let hit = chars
            .get(i..i + w.len())
            .is_some_and(|run| run.iter().zip(&w).all(|(a, b)| a.eq_ignore_ascii_case(b)));
        if hit {
            i += w.len();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The forum's tags that name the article's topics, at most five.
fn matching_tags(tags: &[(String, String)], topics: &[String]) -> Vec<String> {
    tags.iter()
        .filter(|(_, name)| {
            let words: Vec<&str> =
                name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
            !words.is_empty() && words.iter().all(|w| topics.iter().any(|t| t == w))
        })
        .take(TAGS_MAX)
        .map(|(id, _)| id.clone())
        .collect()
}

/// The smallest id Discord gives anything made at `ms` (unix milliseconds).
fn snowflake_at(ms: u64) -> u64 {
    ms.saturating_sub(DISCORD_EPOCH_MS) << 22
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn id_of(v: &Value) -> Option<String> {
    v["id"].as_str().map(String::from)
}

/// Discord's JSON error code of a failed call.
fn error_code(e: &serenity::Error) -> Option<isize> {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => Some(r.error.code),
        _ => None,
    }
}

fn status(e: &serenity::Error) -> Option<u16> {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => Some(r.status_code.as_u16()),
        _ => None,
    }
}

async fn call(http: &Http, request: Request<'_>) -> Result<Value, serenity::Error> {
    http.fire::<Value>(request).await
}

fn body(v: &Value) -> Option<Vec<u8>> {
    serde_json::to_vec(v).ok()
}

impl PostState {
    /// Posts `post` in channel `id`.
    pub async fn deliver(
        &self,
        http: &Http,
        id: NonZeroU64,
        post: &Post,
        key: &str,
        progress: &dyn Progress,
    ) -> Result<Sent, SendError> {
        // A forum is learnt from Discord's refusal of a message there (40058), so a
        // plain post costs one call; a webhook post asks first (forums need a thread
        // name from a webhook).
        let known = match &post.persona {
            Some(_) => Some(self.channel(http, id).await.map_err(classify)?),
            None => self.cached(id),
        };
        let (content, embeds) = message(&post.reply, post.mention.as_deref());
        let embeds: Vec<Value> = embeds
            .iter()
            .map(|e| serde_json::to_value(e.to_builder()).unwrap_or(Value::Null))
            .collect();
        let mut msg = json!({
            "embeds": embeds,
            "allowed_mentions": allowed_mentions(post.mention.as_deref()),
        });
        if !content.is_empty() {
            msg["content"] = json!(content);
        }
        if let Some(info) = known.as_ref().filter(|i| matches!(i.kind, FORUM | MEDIA)) {
            return self.forum_post(http, id, info, post, msg, progress).await;
        }
        let mut steps = Steps::read(progress);
        let message_id = match steps.message.clone() {
            // Posted by an earlier attempt: only its thread is left.
            Some(m) => m,
            None => {
                let hook = match &post.persona {
                    Some(_) => self.hook(http, id).await?,
                    None => None,
                };
                let posted = match (hook, &post.persona) {
                    (Some((hook_id, token)), Some(persona)) => {
                        let mut msg = msg.clone();
                        msg["username"] = json!(webhook_username(&persona.name));
                        if let Some(avatar) = render::safe_url(persona.avatar_url.as_deref()) {
                            msg["avatar_url"] = json!(avatar);
                        }
                        self.webhook_post(http, id, hook_id, &token, &msg, &mut steps, progress)
                            .await?
                    }
                    _ => {
                        let mut message = msg.clone();
                        message["nonce"] = json!(key);
                        message["enforce_nonce"] = json!(true);
                        let request = Request::new(
                            Route::ChannelMessages { channel_id: id.into() },
                            LightMethod::Post,
                        )
                        .body(body(&message));
                        match call(http, request).await {
                            Ok(v) => v,
                            // "Cannot send a message in a forum channel" (or, for
                            // other kinds, "…in a non-text channel"): ask what it is.
                            Err(e)
                                if matches!(error_code(&e), Some(40058 | 50008))
                                    && known.is_none() =>
                            {
                                let info = self.channel(http, id).await.map_err(classify)?;
                                if !matches!(info.kind, FORUM | MEDIA) {
                                    return Err(classify(e));
                                }
                                return self.forum_post(http, id, &info, post, msg, progress).await;
                            }
                            Err(e) => return Err(classify(e)),
                        }
                    }
                };
                id_of(&posted).ok_or_else(|| {
                    SendError::Transient("Discord answered a post without its id".into())
                })?
            }
        };
        if post.thread {
            if steps.message.is_none() {
                steps.message = Some(message_id.clone());
                steps.save(progress).await?;
            }
            self.thread_on(http, id, &message_id, post.reply.title.as_deref()).await?;
        }
        Ok(Sent { message_id: Some(message_id) })
    }

    /// Opens the discussion thread on a posted message. A thread made by an earlier
    /// attempt is Discord's 160004, which means done.
    async fn thread_on(
        &self,
        http: &Http,
        channel: NonZeroU64,
        message: &str,
        title: Option<&str>,
    ) -> Result<(), SendError> {
        let Ok(message) = message.parse::<NonZeroU64>() else {
            return Err(SendError::Permanent(format!("\"{message}\" is not a message id")));
        };
        let request = Request::new(
            Route::ChannelMessageThreads {
                channel_id: ChannelId::from(channel),
                message_id: MessageId::from(message),
            },
            LightMethod::Post,
        )
        .body(body(&json!({"name": thread_name(title)})));
        match call(http, request).await {
            Ok(_) => Ok(()),
            Err(e) if error_code(&e) == Some(160004) => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }

    /// Posts through herald's webhook. A retry whose first call may have posted looks
    /// for the webhook's message with the same text since then.
    #[allow(clippy::too_many_arguments)]
    async fn webhook_post(
        &self,
        http: &Http,
        channel: NonZeroU64,
        hook_id: u64,
        token: &str,
        msg: &Value,
        steps: &mut Steps,
        progress: &dyn Progress,
    ) -> Result<Value, SendError> {
        if let Some(started) = steps.started_ms {
            let request = Request::new(
                Route::ChannelMessages { channel_id: channel.into() },
                LightMethod::Get,
            )
            .params(Some(vec![
                ("after", snowflake_at(started.saturating_sub(1000)).to_string()),
                ("limit", "100".to_string()),
            ]));
            // Without Read Message History the search finds nothing and the post is
            // made again: the window ARCHITECTURE.md names.
            if let Ok(Value::Array(recent)) = call(http, request).await
                && let Some(found) = recent.into_iter().find(|m| {
                    m["webhook_id"].as_str() == Some(&hook_id.to_string()) && same_post(m, msg)
                })
            {
                return Ok(found);
            }
        } else {
            steps.started_ms = Some(now_ms());
            steps.save(progress).await?;
        }
        let Some(hook) = NonZeroU64::new(hook_id) else {
            return Err(SendError::Permanent("a webhook without an id".into()));
        };
        let request = Request::new(
            Route::WebhookWithToken { webhook_id: WebhookId::from(hook), token },
            LightMethod::Post,
        )
        .body(body(msg))
        .params(Some(vec![("wait", "true".to_string())]));
        match call(http, request).await {
            Ok(v) => Ok(v),
            Err(e) if matches!(status(&e), Some(401 | 404)) => {
                // The webhook was deleted: make a new one next time.
                lock(&self.hooks).remove(&channel.get());
                Err(SendError::Transient(format!("herald's webhook is gone: {}", classify(e))))
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// A forum post: a thread named after the article, the post as its first message,
    /// the forum's matching tags. A retry whose first call may have posted looks for a
    /// thread of that name made since then.
    async fn forum_post(
        &self,
        http: &Http,
        forum: NonZeroU64,
        info: &ChannelInfo,
        post: &Post,
        msg: Value,
        progress: &dyn Progress,
    ) -> Result<Sent, SendError> {
        let name = thread_name(post.reply.title.as_deref());
        let mut steps = Steps::read(progress);
        if let (Some(started), Some(guild)) =
            (steps.started_ms, info.guild_id.and_then(NonZeroU64::new))
        {
            let request = Request::new(
                Route::GuildThreadsActive { guild_id: GuildId::from(guild) },
                LightMethod::Get,
            );
            let since = snowflake_at(started.saturating_sub(1000));
            if let Ok(active) = call(http, request).await
                && let Some(found) = active["threads"].as_array().into_iter().flatten().find(|t| {
                    t["parent_id"].as_str() == Some(&forum.to_string())
                        && t["name"].as_str() == Some(&name)
                        && t["id"]
                            .as_str()
                            .and_then(|i| i.parse::<u64>().ok())
                            .is_some_and(|i| i >= since)
                })
            {
                return Ok(Sent { message_id: id_of(found) });
            }
        } else {
            steps.started_ms = Some(now_ms());
            steps.save(progress).await?;
        }
        let mut thread = json!({"name": name, "message": msg});
        let tags = matching_tags(&info.tags, &post.topics);
        if !tags.is_empty() {
            thread["applied_tags"] = json!(tags);
        }
        let request =
            Request::new(Route::ChannelThreads { channel_id: forum.into() }, LightMethod::Post)
                .body(body(&thread));
        let made = call(http, request).await.map_err(|e| match error_code(&e) {
            // "A tag is required": no tag of the forum names the article; a retry would
            // be refused the same way, so the forum is paused with the reason.
            Some(40067) => SendError::Permanent(
                "this forum requires a tag on each post and none of its tags names words of \
                 the article or its feed: add such a tag or lift the requirement"
                    .into(),
            ),
            _ => classify(e),
        })?;
        Ok(Sent { message_id: id_of(&made) })
    }

    fn cached(&self, id: NonZeroU64) -> Option<ChannelInfo> {
        lock(&self.channels)
            .get(&id.get())
            .filter(|(at, _)| at.elapsed() < CHANNEL_TTL)
            .map(|(_, info)| info.clone())
    }

    /// The channel's type, server and forum tags (cached a while).
    async fn channel(&self, http: &Http, id: NonZeroU64) -> Result<ChannelInfo, serenity::Error> {
        if let Some(info) = self.cached(id) {
            return Ok(info);
        }
        let v =
            call(http, Request::new(Route::Channel { channel_id: id.into() }, LightMethod::Get))
                .await?;
        let info = ChannelInfo {
            kind: v["type"].as_u64().unwrap_or(0),
            guild_id: v["guild_id"].as_str().and_then(|g| g.parse().ok()),
            tags: v["available_tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| Some((id_of(t)?, t["name"].as_str()?.to_lowercase())))
                .collect(),
        };
        lock(&self.channels).insert(id.get(), (Instant::now(), info.clone()));
        Ok(info)
    }

    /// herald's webhook in the channel: its own if it has one, else a new one. `None`
    /// when herald may not manage webhooks there: posts come from herald itself, and
    /// the log says so once per channel and hour.
    async fn hook(
        &self,
        http: &Http,
        channel: NonZeroU64,
    ) -> Result<Option<(u64, String)>, SendError> {
        if let Some((at, hook)) = lock(&self.hooks).get(&channel.get())
            && at.elapsed() < CHANNEL_TTL * 6
        {
            return Ok(match hook {
                Hook::Ready { id, token } => Some((*id, token.clone())),
                Hook::Denied => None,
            });
        }
        let hook = match self.find_or_make_hook(http, channel).await {
            Ok(h) => h,
            Err(e) if status(&e) == Some(403) || error_code(&e) == Some(50013) => {
                tracing::warn!(
                    channel = channel.get(),
                    "herald lacks Manage Webhooks here; posting as itself instead of as each feed"
                );
                Hook::Denied
            }
            Err(e) => return Err(classify(e)),
        };
        lock(&self.hooks).insert(channel.get(), (Instant::now(), hook.clone()));
        Ok(match hook {
            Hook::Ready { id, token } => Some((id, token)),
            Hook::Denied => None,
        })
    }

    async fn find_or_make_hook(
        &self,
        http: &Http,
        channel: NonZeroU64,
    ) -> Result<Hook, serenity::Error> {
        let cached = *lock(&self.bot_id);
        let bot = match cached {
            Some(b) => b,
            None => {
                let me = call(http, Request::new(Route::UserMe, LightMethod::Get)).await?;
                let b = me["id"].as_str().and_then(|i| i.parse().ok()).unwrap_or(0);
                *lock(&self.bot_id) = Some(b);
                b
            }
        };
        let list = call(
            http,
            Request::new(Route::ChannelWebhooks { channel_id: channel.into() }, LightMethod::Get),
        )
        .await?;
        let own =
            list.as_array().into_iter().flatten().find(|w| {
                w["user"]["id"].as_str() == Some(&bot.to_string()) && w["token"].is_string()
            });
        let hook = match own {
            Some(w) => w.clone(),
            None => {
                let request = Request::new(
                    Route::ChannelWebhooks { channel_id: channel.into() },
                    LightMethod::Post,
                )
                .body(body(&json!({"name": WEBHOOK_NAME})));
                call(http, request).await?
            }
        };
        match (hook["id"].as_str().and_then(|i| i.parse().ok()), hook["token"].as_str()) {
            (Some(id), Some(token)) => Ok(Hook::Ready { id, token: token.to_string() }),
            _ => Ok(Hook::Denied),
        }
    }
}

/// Whether a message Discord holds is the post `msg` (same text and card link).
fn same_post(held: &Value, msg: &Value) -> bool {
    let text = |v: &Value| v["content"].as_str().unwrap_or_default().to_string();
    let card = |v: &Value| {
        (
            v["embeds"][0]["url"].as_str().map(String::from),
            v["embeds"][0]["title"].as_str().map(String::from),
        )
    };
    text(held) == text(msg) && card(held) == card(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::template::{Fields, Template};
    use crate::reply::Tone;

    fn reply(style: PostStyle) -> Reply {
        let mut r = Reply::public(Tone::Article, "Summary with *stars* and @everyone")
            .with_title("Rates rise")
            .with_url(Some("https://news.example/rates".into()));
        r.style = style;
        r
    }

    #[test]
    fn styles_shape_the_message() {
        let (content, embeds) = message(&reply(PostStyle::Embed), None);
        assert_eq!((content.as_str(), embeds.len()), ("", 1));
        let (content, embeds) = message(&reply(PostStyle::Compact), None);
        assert_eq!(content, "**Rates rise** <https://news.example/rates>");
        assert!(embeds.is_empty());
        let (content, embeds) = message(&reply(PostStyle::Link), Some("42"));
        assert_eq!(content, "<@&42> https://news.example/rates");
        assert!(embeds.is_empty());
    }

    #[test]
    fn templates_render_their_markup_and_escape_feed_text_within_2000() {
        let mut r = reply(PostStyle::Compact);
        r.templated = Some(Templated {
            template: Template::parse("**{title}**: {summary}\n{link}", 2000).expect("valid"),
            fields: Fields {
                title: "Rates rise".into(),
                summary: format!("{} *x* @everyone", "long ".repeat(600)),
                link: Some("https://news.example/a_b".into()),
                ..Fields::default()
            },
        });
        let (content, _) = message(&r, Some("42"));
        assert!(content.starts_with("<@&42> **Rates rise**: "), "{content}");
        assert!(content.ends_with("\nhttps://news.example/a_b"), "link unescaped: {content}");
        assert!(content.chars().count() <= CONTENT_MAX, "{}", content.chars().count());
        assert!(!content.contains(" @everyone"), "feed text escaped");
    }

    #[test]
    fn links_with_markup_in_them_are_not_written_bare() {
        let mut r = reply(PostStyle::Link);
        r.url = Some("https://x.example/<@&42>".into());
        let (content, embeds) = message(&r, None);
        assert!(content.is_empty() && embeds.len() == 1, "the card instead: {content}");
        assert_eq!(
            piece_text(&Piece::Url("https://x.example/a|b".into())),
            "https\\://x.example/a\\|b"
        );
    }

    #[test]
    fn pings_allow_exactly_the_role() {
        assert_eq!(allowed_mentions(Some("42")), json!({"parse": [], "roles": ["42"]}));
        assert_eq!(allowed_mentions(None), json!({"parse": []}));
    }

    #[test]
    fn names_keep_discords_rules() {
        let long = "word ".repeat(40);
        let name = thread_name(Some(&long));
        assert!(name.chars().count() <= THREAD_NAME_MAX && name.ends_with('…'), "{name}");
        assert!(!name.contains("wor…"), "cut at a word: {name}");
        assert_eq!(thread_name(Some("  \n ")), "(untitled)");
        assert_eq!(webhook_username("The Discord Blog"), "The Blog");
        assert_eq!(webhook_username("clyde"), "herald");
        assert_eq!(webhook_username(&"x".repeat(100)).chars().count(), WEBHOOK_NAME_MAX);
    }

    #[test]
    fn tags_match_topic_words_at_most_five() {
        let tags: Vec<(String, String)> = ["economy", "north korea", "sports", "a", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, n)| (i.to_string(), n.to_string()))
            .collect();
        let topics: Vec<String> = ["economy", "north", "korea", "a", "b", "c", "d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(matching_tags(&tags, &topics), ["0", "1", "3", "4", "5"]);
        assert!(matching_tags(&tags, &["korea".into()]).is_empty());
    }
}
