//! A fake Discord on 127.0.0.1 that speaks the real protocol, so tests exercise the same
//! serenity code that runs in production: REST under `/api/v10` (on herald's own
//! `LocalServer`) and a WebSocket gateway (tokio-tungstenite).
//!
//! It checks `Authorization: Bot <token>`, payload shapes and Discord's limits, and
//! answers with Discord's error codes (50006 empty message, 50035 invalid form body,
//! 10062 unknown interaction, 40060 already acknowledged, 50001 missing access, 10003
//! unknown channel). Channel messages honour `nonce` + `enforce_nonce` like Discord: the
//! same nonce in the same channel within a few minutes returns the first message. Sends
//! can be scripted to fail (429 with `retry_after` and rate-limit headers, 500, 403, 404).
//! Every request is recorded. Channels have types: a forum (15) or media (16) channel
//! with `available_tags` refuses messages (40058) and takes forum posts (`POST
//! /channels/{id}/threads`, name 1–100, at most 5 known tags); a message gets one thread
//! (`POST …/messages/{id}/threads`, 160004 for a second); herald's webhooks are listed,
//! created (names 1–80 without "clyde"/"discord", 50013 without Manage Webhooks) and
//! executed (`username`, `avatar_url`, `?wait=true`). `allowed_mentions` is checked as
//! Discord checks it, and each message records the roles it pinged. Gateway payloads are complete per serenity 0.12.5's model
//! types (a malformed known event silently becomes `Event::Unknown`), which
//! `tests/it/discord.rs` checks by deserializing them with serenity itself.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use herald::localserver::{Handler, LocalServer, Request, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WsMessage;

pub const TOKEN: &str = "fake-token.for-tests";
pub const APP_ID: u64 = 900_000_000_000_000_001;
pub const BOT_ID: u64 = 900_000_000_000_000_002;
/// Discord keeps a nonce for "a few minutes".
const NONCE_TTL: Duration = Duration::from_secs(300);
const HEARTBEAT_MS: u64 = 41_250;

/// Bits of Discord's permission field.
pub mod perms {
    pub const NONE: u64 = 0;
    pub const MANAGE_CHANNELS: u64 = 1 << 4;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const ADMINISTRATOR: u64 = 1 << 3;
}

/// A scripted answer to the next message posted in a channel.
#[derive(Debug, Clone)]
pub enum Fail {
    /// 429 with this `retry_after` in seconds.
    RateLimited(f64),
    ServerError,
    Forbidden,
    NotFound,
    /// Answers normally (a gap in a scripted storm).
    Pass,
    /// Creates the message, then answers only after this long: a client that gives up
    /// first does not know the message exists.
    SlowAnswer(Duration),
}

/// One REST request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path without `/api/v10` and query.
    pub path: String,
    pub body: Value,
    pub status: u16,
}

/// A message the fake holds (created in a channel, or an interaction's answer).
#[derive(Debug, Clone)]
pub struct Posted {
    pub id: u64,
    pub channel_id: u64,
    pub body: Value,
    /// The webhook that posted it.
    pub webhook_id: Option<u64>,
    /// The roles this message pinged (its role mentions that `allowed_mentions` let through).
    pub pinged_roles: Vec<String>,
    /// Whether it pinged @everyone/@here or a user.
    pub pinged_others: bool,
}

/// A channel's type and, for a forum, its tags.
#[derive(Debug, Clone)]
pub struct ChannelSpec {
    pub guild: u64,
    pub kind: u64,
    /// (tag id, name).
    pub tags: Vec<(u64, String)>,
    /// herald may manage webhooks here.
    pub manage_webhooks: bool,
}

/// A thread the fake holds: a forum post, or a thread on a message.
#[derive(Debug, Clone)]
pub struct Thread {
    pub id: u64,
    pub parent_id: u64,
    pub guild: u64,
    pub name: String,
    pub applied_tags: Vec<String>,
    /// The message it was opened on (a forum post's first message has the thread's id).
    pub message_id: u64,
}

/// A webhook in a channel.
#[derive(Debug, Clone)]
pub struct Hook {
    pub id: u64,
    pub channel_id: u64,
    pub guild: u64,
    pub name: String,
    pub token: String,
}

/// What herald answered to one interaction.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// The callback body (type 4 message, 5 deferred, 7 update, 8 autocomplete).
    pub callback: Option<Value>,
    /// The `@original` message after edits (a deferred answer's content).
    pub original: Option<Value>,
    pub followups: Vec<Value>,
}

impl Answer {
    /// The message data the user sees: the edited original, else the callback's data.
    pub fn message(&self) -> Option<&Value> {
        self.original.as_ref().or_else(|| self.callback.as_ref().map(|c| &c["data"]))
    }

    pub fn ephemeral(&self) -> bool {
        let flags = self.callback.as_ref().and_then(|c| c["data"]["flags"].as_u64()).unwrap_or(0);
        flags & 64 != 0
    }

    /// Every embed's title and description, joined, for assertions.
    pub fn text(&self) -> String {
        let Some(m) = self.message() else { return String::new() };
        embed_text(m)
    }
}

/// The titles, descriptions and fields of a message's embeds, as one string.
pub fn embed_text(m: &Value) -> String {
    let mut out = String::new();
    for e in m["embeds"].as_array().into_iter().flatten() {
        for k in ["title", "description"] {
            if let Some(s) = e[k].as_str() {
                out.push_str(s);
                out.push('\n');
            }
        }
        for f in e["fields"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "{}: {}\n",
                f["name"].as_str().unwrap_or(""),
                f["value"].as_str().unwrap_or("")
            ));
        }
    }
    out
}

#[derive(Debug)]
struct Interaction {
    id: u64,
    token: String,
    answer: Answer,
}

enum Outgoing {
    Frame(String),
    Drop,
}

#[derive(Default)]
struct Gateway {
    session: Option<String>,
    seq: u64,
    /// Dispatches of this session, for replay on RESUME.
    history: Vec<(u64, String)>,
    conn: Option<mpsc::UnboundedSender<Outgoing>>,
    identifies: usize,
    resumes: usize,
    heartbeats: usize,
    intents: Option<u64>,
    /// IDENTIFYs that took over a shard whose session was still connected: two
    /// processes running the same shard (each would answer its guilds' commands).
    takeovers: usize,
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    messages: Vec<Posted>,
    nonces: HashMap<(u64, String), (u64, Instant)>,
    fails: HashMap<u64, VecDeque<Fail>>,
    global_commands: Vec<Value>,
    guild_commands: HashMap<u64, Vec<Value>>,
    interactions: Vec<Interaction>,
    guilds: Vec<(u64, String, Vec<u64>)>,
    /// One session per shard id. A guild's events go to shard `(id >> 22) % shard_total`.
    shards: std::collections::BTreeMap<u32, Gateway>,
    /// The shard count the clients identified with (1 until one says otherwise).
    shard_total: u32,
    /// herald's own permissions sent with interactions (`app_permissions`); None: all.
    app_permissions: Option<u64>,
    /// Every channel post answers 502 (an outage) while set.
    down: bool,
    /// Channels whose every post hangs this long before a 500.
    hung: HashMap<u64, Duration>,
    /// New gateway connections are closed at once (the gateway is unreachable).
    gateway_refused: bool,
    /// Every created channel message is answered this late (made at once): a sender
    /// that dies meanwhile never learns it was posted.
    answer_delay: Option<Duration>,
    /// Posts answered with the message an earlier post of the same nonce made.
    nonce_repeats: usize,
    /// Channels with a type of their own (the guilds' channels are text channels).
    channels: HashMap<u64, ChannelSpec>,
    threads: Vec<Thread>,
    webhooks: Vec<Hook>,
}

pub struct FakeDiscord {
    server: LocalServer,
    state: Arc<Mutex<State>>,
    ids: Arc<AtomicU64>,
    gateway_task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.gateway_task.abort();
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A panicking test thread poisons the lock; the state is still what it was.
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeDiscord {
    /// Starts REST and gateway on loopback. `guilds` are sent as GUILD_CREATE after
    /// READY: `(guild id, name, text channel ids)`.
    pub async fn start(guilds: &[(u64, &str, &[u64])]) -> FakeDiscord {
        let state: Arc<Mutex<State>> = Arc::default();
        lock(&state).guilds = guilds
            .iter()
            .map(|(id, name, chans)| (*id, name.to_string(), chans.to_vec()))
            .collect();
        let ids = Arc::new(AtomicU64::new(0));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind gateway");
        let gateway_addr = listener.local_addr().expect("gateway addr");
        let gateway_url = format!("ws://{gateway_addr}");
        let (s, i) = (state.clone(), ids.clone());
        let handler: Handler = Arc::new(move |req: &Request| rest(&s, &i, &gateway_url, req));
        let server = LocalServer::start("127.0.0.1:0".parse().expect("addr"), handler)
            .await
            .expect("bind REST");
        let (s, i) = (state.clone(), ids.clone());
        let url = format!("ws://{gateway_addr}");
        let gateway_task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                if lock(&s).gateway_refused {
                    drop(stream);
                    continue;
                }
                tokio::spawn(gateway_conn(stream, s.clone(), i.clone(), url.clone()));
            }
        });
        FakeDiscord { server, state, ids, gateway_task }
    }

    /// The REST base for `DISCORD_API_BASE`.
    pub fn api_base(&self) -> String {
        self.server.url("")
    }

    fn next_id(&self) -> u64 {
        snowflake(&self.ids)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).requests.clone()
    }

    /// Messages created in `channel` (by the bot's REST posts), oldest first.
    pub fn messages(&self, channel: u64) -> Vec<Posted> {
        lock(&self.state).messages.iter().filter(|m| m.channel_id == channel).cloned().collect()
    }

    /// Makes `channel` a forum (kind 15) or media (16) channel of `guild` with these
    /// tags, or gives a text channel (0) its herald permissions.
    pub fn set_channel(&self, channel: u64, spec: ChannelSpec) {
        lock(&self.state).channels.insert(channel, spec);
    }

    /// Discord keeps a nonce for a few minutes: after them a resend is a new message.
    pub fn forget_nonces(&self) {
        lock(&self.state).nonces.clear();
    }

    pub fn threads(&self) -> Vec<Thread> {
        lock(&self.state).threads.clone()
    }

    pub fn webhooks(&self) -> Vec<Hook> {
        lock(&self.state).webhooks.clone()
    }

    /// The next posts to `channel` fail like this, in order.
    pub fn fail_next(&self, channel: u64, fails: impl IntoIterator<Item = Fail>) {
        lock(&self.state).fails.entry(channel).or_default().extend(fails);
    }

    /// herald's permissions in interactions from now on (`None`: all of them).
    pub fn set_app_permissions(&self, perms: Option<u64>) {
        lock(&self.state).app_permissions = perms;
    }

    /// An outage: while `down`, every post to a channel gets 502 Bad Gateway.
    pub fn set_down(&self, down: bool) {
        lock(&self.state).down = down;
    }

    /// Every message created from now on is answered `delay` late (None: at once).
    pub fn set_answer_delay(&self, delay: Option<Duration>) {
        lock(&self.state).answer_delay = delay;
    }

    /// Posts that repeated an earlier post's nonce and got its message back.
    pub fn nonce_repeats(&self) -> usize {
        lock(&self.state).nonce_repeats
    }

    /// Every post to `channel` hangs for `hang` (then fails) from now on; None ends it.
    pub fn set_hung(&self, channel: u64, hang: Option<Duration>) {
        let mut st = lock(&self.state);
        match hang {
            Some(d) => st.hung.insert(channel, d),
            None => st.hung.remove(&channel),
        };
    }

    /// How many messages were created in channels other than `except`.
    #[allow(dead_code)] // for benches/discord.rs, which includes this module
    pub fn messages_count_except(&self, except: u64) -> usize {
        lock(&self.state).messages.iter().filter(|m| m.channel_id != except).count()
    }

    /// How many posts to `channel` the fake received (answered or not).
    pub fn post_attempts(&self, channel: u64) -> usize {
        let path = format!("/channels/{channel}/messages");
        lock(&self.state).requests.iter().filter(|r| r.method == "POST" && r.path == path).count()
    }

    pub fn global_commands(&self) -> Vec<Value> {
        lock(&self.state).global_commands.clone()
    }

    pub fn guild_commands(&self, guild: u64) -> Vec<Value> {
        lock(&self.state).guild_commands.get(&guild).cloned().unwrap_or_default()
    }

    pub fn identifies(&self) -> usize {
        lock(&self.state).shards.values().map(|g| g.identifies).sum()
    }

    pub fn resumes(&self) -> usize {
        lock(&self.state).shards.values().map(|g| g.resumes).sum()
    }

    pub fn intents(&self) -> Option<u64> {
        lock(&self.state).shards.values().find_map(|g| g.intents)
    }

    /// The shard ids with a live gateway connection, and the total they identified with.
    pub fn connected_shards(&self) -> (Vec<u32>, u32) {
        let st = lock(&self.state);
        let live = st.shards.iter().filter(|(_, g)| g.conn.is_some()).map(|(id, _)| *id).collect();
        (live, st.shard_total.max(1))
    }

    /// IDENTIFYs for a shard that another connection was still running.
    pub fn shard_takeovers(&self) -> usize {
        lock(&self.state).shards.values().map(|g| g.takeovers).sum()
    }

    /// What herald answered to the interaction `id` so far.
    pub fn answer(&self, id: u64) -> Answer {
        lock(&self.state)
            .interactions
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.answer.clone())
            .unwrap_or_default()
    }

    /// Waits (real time) until `cond` holds, or panics with `what`.
    pub async fn wait_for(&self, what: &str, cond: impl Fn(&FakeDiscord) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cond(self) {
            if Instant::now() > deadline {
                let seen: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| format!("{} {} → {}", r.method, r.path, r.status))
                    .collect();
                let heartbeats: usize =
                    lock(&self.state).shards.values().map(|g| g.heartbeats).sum();
                panic!(
                    "timed out waiting for {what}; identifies {}, resumes {}, heartbeats {heartbeats}; requests: {seen:#?}",
                    self.identifies(),
                    self.resumes(),
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits for herald to answer interaction `id` (a callback, and for a deferred one
    /// the edit of `@original`).
    pub async fn wait_answer(&self, id: u64) -> Answer {
        self.wait_for("an interaction answer", |f| {
            let a = f.answer(id);
            match a.callback.as_ref().and_then(|c| c["type"].as_u64()) {
                Some(5) => a.original.is_some(),
                Some(_) => true,
                None => false,
            }
        })
        .await;
        self.answer(id)
    }

    /// Sends a dispatch on the gateway (queued in the session's history if no
    /// connection is up, and replayed on RESUME as Discord does).
    pub fn dispatch(&self, t: &str, d: Value) {
        let mut st = lock(&self.state);
        let shard = shard_of(&st, t, &d);
        push_dispatch(st.shards.entry(shard).or_default(), t, d);
    }

    /// While set, the gateway is unreachable: the connection drops and every reconnect
    /// is closed before its handshake.
    pub fn set_gateway_refused(&self, refused: bool) {
        lock(&self.state).gateway_refused = refused;
        if refused {
            self.drop_connection();
        }
    }

    /// Drops the gateway connection without a close frame (a network failure).
    /// Dispatches from now on queue in the session's history until the client RESUMEs.
    pub fn drop_connection(&self) {
        let mut st = lock(&self.state);
        for gw in st.shards.values_mut() {
            if let Some(c) = gw.conn.take() {
                let _ = c.send(Outgoing::Drop);
            }
        }
    }

    /// A slash command (or autocomplete, `kind` 4) interaction from a member with
    /// `permissions` in `guild`/`channel`. Returns the interaction id.
    #[allow(clippy::too_many_arguments)] // each is one field of Discord's payload
    pub fn interaction(
        &self,
        kind: u8,
        guild: u64,
        channel: u64,
        user: u64,
        permissions: u64,
        name: &str,
        options: Value,
    ) -> u64 {
        self.interaction_with(kind, guild, channel, user, permissions, name, options, json!({}))
    }

    /// [`interaction`](Self::interaction) with `resolved` data: what ids in the options
    /// point at, e.g. `{"attachments": {"ID": {…}}}` for an uploaded file.
    #[allow(clippy::too_many_arguments)] // each is one field of Discord's payload
    pub fn interaction_with(
        &self,
        kind: u8,
        guild: u64,
        channel: u64,
        user: u64,
        permissions: u64,
        name: &str,
        options: Value,
        resolved: Value,
    ) -> u64 {
        let id = self.next_id();
        let data = json!({
            "id": (APP_ID + 100).to_string(),
            "name": name,
            "type": 1,
            "options": options,
            "resolved": resolved,
            "guild_id": guild.to_string(),
        });
        let payload =
            self.interaction_payload(id, kind, guild, channel, user, permissions, data, None);
        self.dispatch("INTERACTION_CREATE", payload);
        id
    }

    /// An uploaded file as Discord describes it in `resolved.attachments`; `url` is where
    /// its bytes are (Discord's CDN, here a test server).
    pub fn attachment(&self, filename: &str, content_type: &str, size: u64, url: &str) -> Value {
        let id = self.next_id();
        json!({
            "id": id.to_string(),
            "filename": filename,
            "size": size,
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
            "ephemeral": true,
        })
    }

    /// A button press on `message` (a message the fake holds as a JSON value).
    pub fn button(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        custom_id: &str,
        message: Value,
    ) -> u64 {
        let id = self.next_id();
        let data = json!({ "custom_id": custom_id, "component_type": 2 });
        let payload =
            self.interaction_payload(id, 3, guild, channel, user, perms::NONE, data, Some(message));
        self.dispatch("INTERACTION_CREATE", payload);
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn interaction_payload(
        &self,
        id: u64,
        kind: u8,
        guild: u64,
        channel: u64,
        user: u64,
        permissions: u64,
        data: Value,
        message: Option<Value>,
    ) -> Value {
        let token = format!("itoken-{id}-{}", fastrand_like(id));
        lock(&self.state).interactions.push(Interaction {
            id,
            token: token.clone(),
            answer: Answer::default(),
        });
        let mut p = json!({
            "id": id.to_string(),
            "application_id": APP_ID.to_string(),
            "type": kind,
            "data": data,
            "guild_id": guild.to_string(),
            "channel_id": channel.to_string(),
            "channel": {"id": channel.to_string(), "type": lock(&self.state).channels.get(&channel).map_or(0, |c| c.kind), "guild_id": guild.to_string(), "name": "news", "permissions": permissions.to_string()},
            "member": member(user, guild, permissions),
            "token": token,
            "version": 1,
            "app_permissions": lock(&self.state).app_permissions.unwrap_or(562949953421311).to_string(),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild.to_string()},
            "context": 0,
            "attachment_size_limit": 10_485_760,
        });
        if let Some(m) = message {
            p["message"] = m;
        }
        p
    }

    /// Payloads the fake sends, for checking them against serenity's model types.
    pub fn sample_payloads(&self) -> Vec<(&'static str, Value)> {
        let guild = (1, "Guild".to_string(), vec![2]);
        vec![
            (
                "READY",
                ready_payload("ws://127.0.0.1:1", "s1", std::slice::from_ref(&guild), [0, 1]),
            ),
            ("GUILD_CREATE", guild_payload(&guild)),
            ("GUILD_DELETE", json!({"id": "1", "unavailable": false})),
            ("CHANNEL_DELETE", channel_payload(1, 2)),
            (
                "FORUM",
                typed_channel_payload(
                    3,
                    &ChannelSpec {
                        guild: 1,
                        kind: 15,
                        tags: vec![(4, "news".into())],
                        manage_webhooks: true,
                    },
                ),
            ),
            (
                "THREAD",
                thread_payload(&Thread {
                    id: 5,
                    parent_id: 3,
                    guild: 1,
                    name: "t".into(),
                    applied_tags: vec!["4".into()],
                    message_id: 5,
                }),
            ),
            (
                "WEBHOOK",
                hook_payload(&Hook {
                    id: 6,
                    channel_id: 2,
                    guild: 1,
                    name: "herald".into(),
                    token: "x".into(),
                }),
            ),
            (
                "MESSAGE",
                message_payload(
                    5,
                    2,
                    Some(1),
                    &json!({"embeds": [{"title": "t"}], "nonce": "hd1c1"}),
                ),
            ),
        ]
    }

    /// A full INTERACTION_CREATE payload without dispatching it.
    pub fn sample_interaction(&self, kind: u8) -> Value {
        let data = match kind {
            3 => json!({ "custom_id": "s|2|||x", "component_type": 2 }),
            _ => {
                json!({"id": "5", "name": "search", "type": 1, "options": [{"name": "query", "type": 3, "value": "x", "focused": kind == 4}]})
            }
        };
        let msg = (kind == 3).then(|| message_payload(6, 2, Some(1), &json!({"embeds": []})));
        self.interaction_payload(self.next_id(), kind, 1, 2, 3, perms::ADMINISTRATOR, data, msg)
    }

    pub fn guild_delete(&self, guild: u64) {
        self.dispatch("GUILD_DELETE", json!({"id": guild.to_string(), "unavailable": false}));
    }

    pub fn channel_delete(&self, guild: u64, channel: u64) {
        self.dispatch("CHANNEL_DELETE", channel_payload(guild, channel));
    }
}

/// A new id as Discord makes them: milliseconds since 2015 in the high bits, so ids
/// grow with time and tell when something was made; strictly increasing.
fn snowflake(ids: &AtomicU64) -> u64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let now = ms.saturating_sub(1_420_070_400_000) << 22;
    let prev = ids
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |p| Some(now.max(p + 1)))
        .unwrap_or_else(|p| p);
    now.max(prev + 1)
}

/// A deterministic token suffix (tests need no randomness, only uniqueness).
fn fastrand_like(id: u64) -> u64 {
    id.wrapping_mul(0x9E3779B97F4A7C15) >> 16
}

fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": name,
        "discriminator": "0",
        "global_name": null,
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
    })
}

fn member(user_id: u64, guild: u64, permissions: u64) -> Value {
    json!({
        "user": user(user_id, &format!("user{user_id}"), false),
        "nick": null,
        "avatar": null,
        "roles": [],
        "joined_at": "2026-01-01T00:00:00.000000+00:00",
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "permissions": permissions.to_string(),
        "communication_disabled_until": null,
        "guild_id": guild.to_string(),
    })
}

fn channel_payload(guild: u64, channel: u64) -> Value {
    json!({
        "id": channel.to_string(),
        "type": 0,
        "guild_id": guild.to_string(),
        "position": 0,
        "permission_overwrites": [],
        "name": format!("news-{channel}"),
        "topic": null,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "parent_id": null,
        "flags": 0,
    })
}

fn ready_payload(
    url: &str,
    session: &str,
    guilds: &[(u64, String, Vec<u64>)],
    shard: [u32; 2],
) -> Value {
    json!({
        "v": 10,
        "user": {
            "id": BOT_ID.to_string(), "username": "herald", "discriminator": "0",
            "global_name": null, "avatar": null, "bot": true, "verified": true,
            "mfa_enabled": false, "flags": 0, "email": null,
        },
        "guilds": guilds.iter().map(|(id, _, _)| json!({"id": id.to_string(), "unavailable": true})).collect::<Vec<_>>(),
        "session_id": session,
        "resume_gateway_url": url,
        "shard": shard,
        "application": {"id": APP_ID.to_string(), "flags": 0},
        "private_channels": [],
        "presences": [],
        "relationships": [],
    })
}

fn guild_payload((id, name, channels): &(u64, String, Vec<u64>)) -> Value {
    let everyone = json!({
        "id": id.to_string(), "name": "@everyone", "color": 0, "hoist": false, "icon": null,
        "unicode_emoji": null, "position": 0, "permissions": "104324673", "managed": false,
        "mentionable": false, "flags": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
    });
    let mut g = json!({
        "id": id.to_string(),
        "name": name,
        "icon": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": "1",
        "afk_channel_id": null,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [everyone],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_members": 500000,
    });
    let rest = json!({
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "joined_at": "2026-01-01T00:00:00.000000+00:00",
        "large": false,
        "unavailable": false,
        "member_count": 2,
        "voice_states": [],
        "members": [],
        "channels": channels.iter().map(|c| channel_payload(*id, *c)).collect::<Vec<_>>(),
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    });
    // Two literals: one would exceed serde_json's macro recursion limit.
    for (k, v) in rest.as_object().into_iter().flatten() {
        g[k] = v.clone();
    }
    g
}

fn message_payload(id: u64, channel: u64, guild: Option<u64>, body: &Value) -> Value {
    let mut m = json!({
        "id": id.to_string(),
        "channel_id": channel.to_string(),
        "author": user(BOT_ID, "herald", true),
        "content": body["content"].as_str().unwrap_or(""),
        "timestamp": "2026-11-30T08:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body["embeds"].as_array().cloned().unwrap_or_default().into_iter().map(|mut e| { e["type"] = json!("rich"); e }).collect::<Vec<_>>(),
        "pinned": false,
        "type": 0,
        "flags": body["flags"].as_u64().unwrap_or(0),
        "components": body["components"].as_array().cloned().unwrap_or_default(),
    });
    if let Some(n) = body.get("nonce") {
        m["nonce"] = n.clone();
    }
    if let Some(g) = guild {
        m["guild_id"] = json!(g.to_string());
    }
    m
}

/// A held message as Discord returns it: a webhook's carries `webhook_id` and the name
/// it was posted under.
fn posted_payload(m: &Posted) -> Value {
    let mut v = message_payload(m.id, m.channel_id, None, &m.body);
    if let Some(w) = m.webhook_id {
        v["webhook_id"] = json!(w.to_string());
        let name = m.body["username"].as_str().unwrap_or("herald");
        v["author"] = user(w, name, true);
    }
    v
}

/// The shard a dispatch goes to: its guild's, as Discord routes them (shard 0 for events
/// of no guild).
fn shard_of(st: &State, t: &str, d: &Value) -> u32 {
    let guild = if t.starts_with("GUILD_") && !t.starts_with("GUILD_MEMBER") {
        d["id"].as_str().or(d["guild_id"].as_str())
    } else {
        d["guild_id"].as_str()
    };
    let total = u64::from(st.shard_total.max(1));
    guild.and_then(|g| g.parse::<u64>().ok()).map_or(0, |g| ((g >> 22) % total) as u32)
}

fn push_dispatch(gw: &mut Gateway, t: &str, d: Value) {
    gw.seq += 1;
    let frame = json!({"op": 0, "t": t, "s": gw.seq, "d": d}).to_string();
    gw.history.push((gw.seq, frame.clone()));
    if let Some(c) = &gw.conn {
        let _ = c.send(Outgoing::Frame(frame));
    }
}

fn error(status: u16, code: u64, message: &str) -> Response {
    Response::new(status, "application/json", json!({"code": code, "message": message}).to_string())
}

fn json_response(status: u16, v: &Value) -> Response {
    Response::new(status, "application/json", v.to_string())
}

/// Checks a message payload (create, interaction answer, edit) against Discord's rules.
fn validate_message(body: &Value, require_content: bool) -> Result<(), Response> {
    let content = body["content"].as_str().unwrap_or("");
    let embeds = body["embeds"].as_array().cloned().unwrap_or_default();
    let components = body["components"].as_array().map(|c| !c.is_empty()).unwrap_or(false);
    if require_content && content.trim().is_empty() && embeds.is_empty() && !components {
        return Err(error(400, 50006, "Cannot send an empty message"));
    }
    let invalid = |path: String, msg: String| {
        Err(json_response(
            400,
            &json!({"code": 50035, "message": "Invalid Form Body",
                    "errors": {path: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": msg}]}}}),
        ))
    };
    if content.chars().count() > 2000 {
        return invalid("content".into(), "Must be 2000 or fewer in length.".into());
    }
    if embeds.len() > 10 {
        return invalid("embeds".into(), "Must be 10 or fewer in length.".into());
    }
    let len = |v: &Value| v.as_str().map(|s| s.chars().count()).unwrap_or(0);
    let mut total = 0;
    for (i, e) in embeds.iter().enumerate() {
        let checks = [
            ("title", len(&e["title"]), 256),
            ("description", len(&e["description"]), 4096),
            ("footer.text", len(&e["footer"]["text"]), 2048),
            ("author.name", len(&e["author"]["name"]), 256),
        ];
        for (k, n, max) in checks {
            if n > max {
                return invalid(
                    format!("embeds.{i}.{k}"),
                    format!("Must be {max} or fewer in length."),
                );
            }
            total += n;
        }
        let fields = e["fields"].as_array().cloned().unwrap_or_default();
        if fields.len() > 25 {
            return invalid(format!("embeds.{i}.fields"), "Must be 25 or fewer in length.".into());
        }
        for f in &fields {
            if len(&f["name"]) > 256 || len(&f["value"]) > 1024 || len(&f["value"]) == 0 {
                return invalid(format!("embeds.{i}.fields"), "Invalid field.".into());
            }
            total += len(&f["name"]) + len(&f["value"]);
        }
        for k in ["url", "thumbnail.url"] {
            let v = if k == "url" { &e["url"] } else { &e["thumbnail"]["url"] };
            if let Some(u) = v.as_str()
                && !(u.starts_with("http://") || u.starts_with("https://"))
            {
                return invalid(format!("embeds.{i}.{k}"), "Not a well formed URL.".into());
            }
        }
    }
    if total > 6000 {
        return invalid("embeds".into(), "Embed size exceeds maximum size of 6000".into());
    }
    Ok(())
}

/// Checks `allowed_mentions` as Discord does; returns the roles it lets through (`None`
/// for every role) and whether users and everyone may be pinged.
fn check_allowed(body: &Value) -> Result<(Option<Vec<String>>, bool), Response> {
    let Some(am) = body.get("allowed_mentions").filter(|a| !a.is_null()) else {
        // Without it, everything in the content pings.
        return Ok((None, true));
    };
    let invalid = |m: &str| {
        Err(json_response(
            400,
            &json!({"code": 50035, "message": "Invalid Form Body",
                    "errors": {"allowed_mentions": {"_errors": [{"code": "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", "message": m}]}}}),
        ))
    };
    let parse: Vec<&str> =
        am["parse"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if parse.iter().any(|p| !["roles", "users", "everyone"].contains(p)) {
        return invalid("parse holds an unknown type");
    }
    let roles: Vec<String> = am["roles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(String::from))
        .collect();
    if parse.contains(&"roles") && !roles.is_empty() {
        return invalid("parse:[\"roles\"] and roles are mutually exclusive");
    }
    if roles.len() > 100 {
        return invalid("more than 100 roles");
    }
    let others = parse.contains(&"everyone")
        || parse.contains(&"users")
        || am["users"].as_array().is_some_and(|u| !u.is_empty());
    Ok((if parse.contains(&"roles") { None } else { Some(roles) }, others))
}

/// The role ids mentioned (`<@&id>`) in `content`.
fn role_mentions(content: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = content;
    while let Some(i) = rest.find("<@&") {
        rest = &rest[i + 3..];
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if n > 0 && rest.as_bytes().get(n) == Some(&b'>') {
            out.push(rest[..n].to_string());
        }
    }
    out
}

/// What a message pings: its role mentions the allowed list lets through, and whether
/// it pings everyone or users.
fn pings(body: &Value) -> Result<(Vec<String>, bool), Response> {
    let (allowed, others) = check_allowed(body)?;
    let content = body["content"].as_str().unwrap_or("");
    let roles = role_mentions(content)
        .into_iter()
        .filter(|r| allowed.as_ref().is_none_or(|a| a.contains(r)))
        .collect();
    let everyone = content.contains("@everyone") || content.contains("@here");
    let users = content.contains("<@") && content.replace("<@&", "").contains("<@");
    Ok((roles, others && (everyone || users)))
}

/// A webhook or thread name Discord refuses.
fn bad_name(field: &str, name: &str, max: usize, banned_words: bool) -> Option<Response> {
    let n = name.chars().count();
    let lower = name.to_lowercase();
    let banned = banned_words && (lower.contains("clyde") || lower.contains("discord"));
    if n == 0 || n > max || banned {
        return Some(json_response(
            400,
            &json!({"code": 50035, "message": "Invalid Form Body",
                    "errors": {field: {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH",
                    "message": format!("Must be between 1 and {max} in length and a valid name.")}]}}}),
        ));
    }
    None
}

/// A channel of `spec`'s type; a forum's with its tags.
fn typed_channel_payload(channel: u64, spec: &ChannelSpec) -> Value {
    let mut v = channel_payload(spec.guild, channel);
    v["type"] = json!(spec.kind);
    if matches!(spec.kind, 15 | 16) {
        let tags: Vec<Value> = spec
            .tags
            .iter()
            .map(|(id, name)| {
                json!({"id": id.to_string(), "name": name, "moderated": false,
                       "emoji_id": null, "emoji_name": null})
            })
            .collect();
        v["available_tags"] = json!(tags);
        v["default_reaction_emoji"] = Value::Null;
        v["default_sort_order"] = Value::Null;
        v["default_forum_layout"] = json!(0);
    }
    v
}

fn thread_payload(t: &Thread) -> Value {
    json!({
        "id": t.id.to_string(),
        "type": 11,
        "guild_id": t.guild.to_string(),
        "parent_id": t.parent_id.to_string(),
        "owner_id": BOT_ID.to_string(),
        "name": t.name,
        "last_message_id": t.message_id.to_string(),
        "message_count": 1,
        "member_count": 1,
        "rate_limit_per_user": 0,
        "flags": 0,
        "applied_tags": t.applied_tags,
        "total_message_sent": 1,
        "thread_metadata": {"archived": false, "auto_archive_duration": 4320,
            "archive_timestamp": "2026-11-30T08:00:00.000000+00:00", "locked": false},
    })
}

fn hook_payload(h: &Hook) -> Value {
    json!({
        "id": h.id.to_string(),
        "type": 1,
        "guild_id": h.guild.to_string(),
        "channel_id": h.channel_id.to_string(),
        "name": h.name,
        "avatar": null,
        "token": h.token,
        "application_id": APP_ID.to_string(),
        "user": user(BOT_ID, "herald", true),
    })
}

/// A channel as `GET /channels/{id}` shows it, if the fake knows it.
fn channel_spec(st: &State, channel: u64) -> Option<ChannelSpec> {
    if let Some(spec) = st.channels.get(&channel) {
        return Some(spec.clone());
    }
    st.guilds.iter().find(|(_, _, chans)| chans.contains(&channel)).map(|(g, _, _)| ChannelSpec {
        guild: *g,
        kind: 0,
        tags: Vec::new(),
        manage_webhooks: true,
    })
}

fn rest(state: &Mutex<State>, ids: &AtomicU64, gateway_url: &str, req: &Request) -> Response {
    let path = req.path().strip_prefix("/api/v10").unwrap_or(req.path()).to_string();
    let body: Value = if req.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(_) => return error(400, 50109, "The request body contains invalid JSON."),
        }
    };
    let resp = route(state, ids, gateway_url, req, &path, &body);
    lock(state).requests.push(Recorded {
        method: req.method.clone(),
        path,
        body,
        status: resp.status,
    });
    resp
}

fn route(
    state: &Mutex<State>,
    ids: &AtomicU64,
    gateway_url: &str,
    req: &Request,
    path: &str,
    body: &Value,
) -> Response {
    if !req.path().starts_with("/api/v10/") {
        return error(404, 0, "404: Not Found");
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    // Interaction callbacks and webhooks are authorized by their token; everything else
    // needs the bot token.
    let token_route = matches!(parts.first(), Some(&"interactions") | Some(&"webhooks"));
    if !token_route && req.header("authorization") != Some(&format!("Bot {TOKEN}")) {
        return error(401, 0, "401: Unauthorized");
    }
    let next_id = || snowflake(ids);
    let app = APP_ID.to_string();
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["gateway"]) => json_response(200, &json!({"url": gateway_url})),
        ("GET", ["gateway", "bot"]) => json_response(
            200,
            &json!({"url": gateway_url, "shards": 1, "session_start_limit":
                {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}),
        ),
        ("GET", ["users", "@me"]) => json_response(200, &user(BOT_ID, "herald", true)),
        ("PUT", ["applications", a, "commands"]) if *a == app => {
            match register(body, None, &next_id) {
                Ok(cmds) => {
                    lock(state).global_commands = cmds.clone();
                    json_response(200, &Value::Array(cmds))
                }
                Err(r) => r,
            }
        }
        ("PUT", ["applications", a, "guilds", g, "commands"]) if *a == app => {
            let Ok(g) = g.parse::<u64>() else { return error(404, 10004, "Unknown Guild") };
            match register(body, Some(g), &next_id) {
                Ok(cmds) => {
                    lock(state).guild_commands.insert(g, cmds.clone());
                    json_response(200, &Value::Array(cmds))
                }
                Err(r) => r,
            }
        }
        ("POST", ["interactions", id, token, "callback"]) => {
            let mut st = lock(state);
            let Some(i) =
                st.interactions.iter_mut().find(|i| i.id.to_string() == *id && i.token == *token)
            else {
                return error(404, 10062, "Unknown interaction");
            };
            if i.answer.callback.is_some() {
                return error(400, 40060, "Interaction has already been acknowledged.");
            }
            match body["type"].as_u64() {
                Some(4 | 7) => {
                    if let Err(r) = validate_message(&body["data"], true) {
                        return r;
                    }
                }
                Some(5 | 6) => {}
                Some(8) => {
                    let n = body["data"]["choices"].as_array().map(Vec::len);
                    if n.is_none_or(|n| n > 25) {
                        return json_response(
                            400,
                            &json!({"code": 50035, "message": "Invalid Form Body"}),
                        );
                    }
                }
                _ => {
                    return json_response(
                        400,
                        &json!({"code": 50035, "message": "Invalid Form Body"}),
                    );
                }
            }
            i.answer.callback = Some(body.clone());
            Response::status(204)
        }
        ("PATCH", ["webhooks", a, token, "messages", "@original"]) if *a == app => {
            let mut st = lock(state);
            let Some(i) = st.interactions.iter_mut().find(|i| i.token == *token) else {
                return error(404, 10015, "Unknown Webhook");
            };
            if i.answer.callback.is_none() {
                return error(404, 10008, "Unknown Message");
            }
            if let Err(r) = validate_message(body, false) {
                return r;
            }
            let mut merged = i.answer.original.clone().unwrap_or_else(|| json!({}));
            for (k, v) in body.as_object().into_iter().flatten() {
                merged[k] = v.clone();
            }
            i.answer.original = Some(merged.clone());
            json_response(200, &message_payload(i.id, 0, None, &merged))
        }
        ("POST", ["webhooks", a, token]) if *a == app => {
            let mut st = lock(state);
            let Some(i) = st.interactions.iter_mut().find(|i| i.token == *token) else {
                return error(404, 10015, "Unknown Webhook");
            };
            if i.answer.callback.is_none() {
                return error(400, 10015, "Unknown Webhook");
            }
            if let Err(r) = validate_message(body, true) {
                return r;
            }
            i.answer.followups.push(body.clone());
            json_response(200, &message_payload(next_id(), 0, None, body))
        }
        ("GET", ["channels", c]) => {
            let st = lock(state);
            if st.down {
                return error(502, 0, "502: Bad Gateway");
            }
            let channel = c.parse::<u64>().unwrap_or(0);
            if let Some(t) = st.threads.iter().find(|t| t.id == channel) {
                return json_response(200, &thread_payload(t));
            }
            let Some(spec) = channel_spec(&st, channel) else {
                return error(404, 10003, "Unknown Channel");
            };
            json_response(200, &typed_channel_payload(channel, &spec))
        }
        ("GET", ["channels", c, "messages"]) => {
            let channel = c.parse::<u64>().unwrap_or(0);
            let query = req.target.split_once('?').map(|(_, q)| q).unwrap_or("");
            let param = |k: &str| {
                query.split('&').find_map(|kv| kv.strip_prefix(&format!("{k}=")).map(String::from))
            };
            let after: u64 = param("after").and_then(|a| a.parse().ok()).unwrap_or(0);
            let limit: usize = param("limit").and_then(|l| l.parse().ok()).unwrap_or(50).min(100);
            let st = lock(state);
            // Newest first, as Discord lists them.
            let list: Vec<Value> = st
                .messages
                .iter()
                .rev()
                .filter(|m| m.channel_id == channel && m.id > after)
                .take(limit)
                .map(posted_payload)
                .collect();
            json_response(200, &Value::Array(list))
        }
        ("POST", ["channels", c, "threads"]) => {
            let Ok(forum) = c.parse::<u64>() else { return error(404, 10003, "Unknown Channel") };
            let fail = {
                let mut st = lock(state);
                let Some(spec) = channel_spec(&st, forum) else {
                    return error(404, 10003, "Unknown Channel");
                };
                if !matches!(spec.kind, 15 | 16) {
                    // A thread without a message needs a type on a text channel;
                    // herald never asks for one.
                    return json_response(
                        400,
                        &json!({"code": 50035, "message": "Invalid Form Body"}),
                    );
                }
                let name = body["name"].as_str().unwrap_or("");
                if let Some(r) = bad_name("name", name, 100, false) {
                    return r;
                }
                if let Err(r) = validate_message(&body["message"], true) {
                    return r;
                }
                let tags: Vec<String> = body["applied_tags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(String::from))
                    .collect();
                if tags.len() > 5
                    || tags.iter().any(|t| !spec.tags.iter().any(|(id, _)| id.to_string() == *t))
                {
                    return json_response(
                        400,
                        &json!({"code": 50035, "message": "Invalid Form Body",
                        "errors": {"applied_tags": {"_errors": [{"code": "BASE_TYPE_BAD_TAG", "message": "Unknown or too many tags."}]}}}),
                    );
                }
                st.fails.get_mut(&forum).and_then(VecDeque::pop_front)
            };
            let create = || {
                let (roles, others) = match pings(&body["message"]) {
                    Ok(p) => p,
                    Err(r) => return r,
                };
                let mut st = lock(state);
                let guild = channel_spec(&st, forum).map_or(0, |s| s.guild);
                let id = next_id();
                let t = Thread {
                    id,
                    parent_id: forum,
                    guild,
                    name: body["name"].as_str().unwrap_or("").to_string(),
                    applied_tags: body["applied_tags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|t| t.as_str().map(String::from))
                        .collect(),
                    message_id: id,
                };
                st.messages.push(Posted {
                    id,
                    channel_id: id,
                    body: body["message"].clone(),
                    webhook_id: None,
                    pinged_roles: roles,
                    pinged_others: others,
                });
                st.threads.push(t.clone());
                let mut v = thread_payload(&t);
                v["message"] = message_payload(id, id, Some(guild), &body["message"]);
                json_response(201, &v)
            };
            match fail {
                None | Some(Fail::Pass) => create(),
                Some(Fail::SlowAnswer(d)) => create().delayed(d),
                Some(Fail::ServerError) => error(500, 0, "500: Internal Server Error"),
                Some(Fail::Forbidden) => error(403, 50001, "Missing Access"),
                Some(Fail::NotFound) => error(404, 10003, "Unknown Channel"),
                Some(Fail::RateLimited(after)) => json_response(
                    429,
                    &json!({"message": "You are being rate limited.", "retry_after": after, "global": false}),
                ),
            }
        }
        ("POST", ["channels", c, "messages", m, "threads"]) => {
            let (Ok(channel), Ok(message)) = (c.parse::<u64>(), m.parse::<u64>()) else {
                return error(404, 10008, "Unknown Message");
            };
            let mut st = lock(state);
            match st.fails.get_mut(&channel).and_then(VecDeque::pop_front) {
                Some(Fail::ServerError) => return error(500, 0, "500: Internal Server Error"),
                Some(Fail::Forbidden) => return error(403, 50001, "Missing Access"),
                _ => {}
            }
            if !st.messages.iter().any(|p| p.id == message && p.channel_id == channel) {
                return error(404, 10008, "Unknown Message");
            }
            if st.threads.iter().any(|t| t.message_id == message) {
                return error(400, 160004, "A thread has already been created for this message");
            }
            let name = body["name"].as_str().unwrap_or("");
            if let Some(r) = bad_name("name", name, 100, false) {
                return r;
            }
            let guild = channel_spec(&st, channel).map_or(0, |s| s.guild);
            // A thread opened on a message has the message's id.
            let t = Thread {
                id: message,
                parent_id: channel,
                guild,
                name: name.to_string(),
                applied_tags: Vec::new(),
                message_id: message,
            };
            st.threads.push(t.clone());
            json_response(201, &thread_payload(&t))
        }
        ("GET", ["guilds", g, "threads", "active"]) => {
            let guild = g.parse::<u64>().unwrap_or(0);
            let st = lock(state);
            let threads: Vec<Value> =
                st.threads.iter().filter(|t| t.guild == guild).map(thread_payload).collect();
            json_response(200, &json!({"threads": threads, "members": []}))
        }
        ("GET" | "POST", ["channels", c, "webhooks"]) => {
            let channel = c.parse::<u64>().unwrap_or(0);
            let mut st = lock(state);
            let Some(spec) = channel_spec(&st, channel) else {
                return error(404, 10003, "Unknown Channel");
            };
            if !spec.manage_webhooks {
                return error(403, 50013, "Missing Permissions");
            }
            if req.method == "GET" {
                let list: Vec<Value> = st
                    .webhooks
                    .iter()
                    .filter(|h| h.channel_id == channel)
                    .map(hook_payload)
                    .collect();
                return json_response(200, &Value::Array(list));
            }
            let name = body["name"].as_str().unwrap_or("");
            if let Some(r) = bad_name("name", name, 80, true) {
                return r;
            }
            if st.webhooks.iter().filter(|h| h.channel_id == channel).count() >= 15 {
                return error(400, 30007, "Maximum number of webhooks reached (15)");
            }
            let id = next_id();
            let h = Hook {
                id,
                channel_id: channel,
                guild: spec.guild,
                name: name.to_string(),
                token: format!("whtoken-{}", fastrand_like(id)),
            };
            st.webhooks.push(h.clone());
            json_response(200, &hook_payload(&h))
        }
        ("POST", ["webhooks", w, token]) => {
            let hook = {
                let st = lock(state);
                st.webhooks.iter().find(|h| h.id.to_string() == *w && h.token == *token).cloned()
            };
            let Some(hook) = hook else { return error(404, 10015, "Unknown Webhook") };
            if let Err(r) = validate_message(body, true) {
                return r;
            }
            if let Some(name) = body["username"].as_str()
                && let Some(r) = bad_name("username", name, 80, true)
            {
                return r;
            }
            if let Some(a) = body.get("avatar_url").and_then(Value::as_str)
                && !(a.starts_with("https://") || a.starts_with("http://"))
            {
                return json_response(400, &json!({"code": 50035, "message": "Invalid Form Body"}));
            }
            let (roles, others) = match pings(body) {
                Ok(p) => p,
                Err(r) => return r,
            };
            let fail = lock(state).fails.get_mut(&hook.channel_id).and_then(VecDeque::pop_front);
            let create = || {
                let id = next_id();
                let posted = Posted {
                    id,
                    channel_id: hook.channel_id,
                    body: body.clone(),
                    webhook_id: Some(hook.id),
                    pinged_roles: roles.clone(),
                    pinged_others: others,
                };
                let v = posted_payload(&posted);
                lock(state).messages.push(posted);
                if req.target.contains("wait=true") {
                    json_response(200, &v)
                } else {
                    Response::status(204)
                }
            };
            match fail {
                Some(Fail::SlowAnswer(d)) => create().delayed(d),
                Some(Fail::ServerError) => error(500, 0, "500: Internal Server Error"),
                _ => create(),
            }
        }
        ("POST", ["channels", c, "messages"]) => {
            let Ok(channel) = c.parse::<u64>() else { return error(404, 10003, "Unknown Channel") };
            let fail = {
                let mut st = lock(state);
                if channel_spec(&st, channel).is_some_and(|s| matches!(s.kind, 15 | 16)) {
                    return error(400, 40058, "Cannot send a message in a forum channel");
                }
                if st.down {
                    return error(502, 0, "502: Bad Gateway");
                }
                if let Some(hang) = st.hung.get(&channel) {
                    return error(500, 0, "500: Internal Server Error").delayed(*hang);
                }
                st.fails.get_mut(&channel).and_then(VecDeque::pop_front)
            };
            let late = lock(state).answer_delay;
            match fail {
                None | Some(Fail::Pass) => match late {
                    Some(d) => create_message(state, &next_id, channel, body).delayed(d),
                    None => create_message(state, &next_id, channel, body),
                },
                Some(Fail::SlowAnswer(d)) => {
                    create_message(state, &next_id, channel, body).delayed(d)
                }
                Some(Fail::RateLimited(after)) => json_response(
                    429,
                    &json!({"message": "You are being rate limited.", "retry_after": after, "global": false}),
                )
                .header("Retry-After", &format!("{}", after.ceil() as u64))
                .header("X-RateLimit-Limit", "5")
                .header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Reset-After", &format!("{after:.3}"))
                .header("X-RateLimit-Bucket", "fakebucket")
                .header("X-RateLimit-Scope", "user"),
                Some(Fail::ServerError) => error(500, 0, "500: Internal Server Error"),
                Some(Fail::Forbidden) => error(403, 50001, "Missing Access"),
                Some(Fail::NotFound) => error(404, 10003, "Unknown Channel"),
            }
        }
        _ => error(404, 0, "404: Not Found"),
    }
}

/// Creates a message in `channel` as Discord does, honouring `nonce` + `enforce_nonce`.
fn create_message(
    state: &Mutex<State>,
    next_id: &dyn Fn() -> u64,
    channel: u64,
    body: &Value,
) -> Response {
    if let Err(r) = validate_message(body, true) {
        return r;
    }
    let nonce = match &body["nonce"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if nonce.as_ref().is_some_and(|n| n.chars().count() > 25) {
        return json_response(
            400,
            &json!({"code": 50035, "message": "Invalid Form Body",
            "errors": {"nonce": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": "Must be 25 or fewer in length."}]}}}),
        );
    }
    let mut st = lock(state);
    let enforce = body["enforce_nonce"].as_bool().unwrap_or(false);
    if let (Some(n), true) = (&nonce, enforce)
        && let Some((id, at)) = st.nonces.get(&(channel, n.clone())).copied()
        && at.elapsed() < NONCE_TTL
        && let Some(m) = st.messages.iter().find(|m| m.id == id)
    {
        let found = json_response(200, &message_payload(m.id, channel, None, &m.body));
        st.nonce_repeats += 1;
        return found;
    }
    let (pinged_roles, pinged_others) = match pings(body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let id = next_id();
    st.messages.push(Posted {
        id,
        channel_id: channel,
        body: body.clone(),
        webhook_id: None,
        pinged_roles,
        pinged_others,
    });
    if let (Some(n), true) = (nonce, enforce) {
        st.nonces.insert((channel, n), (id, Instant::now()));
    }
    json_response(200, &message_payload(id, channel, None, body))
}

/// Validates a bulk overwrite of application commands and returns them as Discord does.
fn register(
    body: &Value,
    guild: Option<u64>,
    next_id: &dyn Fn() -> u64,
) -> Result<Vec<Value>, Response> {
    let invalid = |m: String| {
        Err(json_response(
            400,
            &json!({"code": 50035, "message": format!("Invalid Form Body: {m}")}),
        ))
    };
    let Some(cmds) = body.as_array() else { return invalid("not an array".into()) };
    if cmds.len() > 100 {
        return invalid("more than 100 commands".into());
    }
    fn check_options(opts: &Value) -> Result<(), String> {
        let Some(opts) = opts.as_array() else { return Ok(()) };
        if opts.len() > 25 {
            return Err("more than 25 options".into());
        }
        let mut optional_seen = false;
        for o in opts {
            let name = o["name"].as_str().unwrap_or("");
            let desc = o["description"].as_str().unwrap_or("");
            if name.is_empty() || name.len() > 32 || name != name.to_lowercase() {
                return Err(format!("bad option name {name:?}"));
            }
            if desc.is_empty() || desc.chars().count() > 100 {
                return Err(format!("bad description of {name}"));
            }
            let required = o["required"].as_bool().unwrap_or(false);
            if required && optional_seen {
                return Err(format!("required option {name} after an optional one"));
            }
            optional_seen |= !required && o["type"].as_u64() != Some(1);
            if o["autocomplete"].as_bool() == Some(true)
                && o["choices"].as_array().is_some_and(|c| !c.is_empty())
            {
                return Err(format!("{name}: autocomplete and choices"));
            }
            if o["choices"].as_array().is_some_and(|c| c.len() > 25) {
                return Err(format!("{name}: more than 25 choices"));
            }
            check_options(&o["options"])?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    for c in cmds {
        let name = c["name"].as_str().unwrap_or("");
        let desc = c["description"].as_str().unwrap_or("");
        if name.is_empty() || name.len() > 32 || desc.is_empty() || desc.chars().count() > 100 {
            return invalid(format!("command {name:?}"));
        }
        if let Err(m) = check_options(&c["options"]) {
            return invalid(format!("/{name}: {m}"));
        }
        let mut c = c.clone();
        c["id"] = json!(next_id().to_string());
        c["application_id"] = json!(APP_ID.to_string());
        c["version"] = json!(next_id().to_string());
        if c.get("type").is_none() {
            c["type"] = json!(1);
        }
        if let Some(g) = guild {
            c["guild_id"] = json!(g.to_string());
        }
        out.push(c);
    }
    Ok(out)
}

/// The gateway token, as Discord takes it: bare or with the "Bot " prefix.
fn token_ok(t: &Value) -> bool {
    t.as_str().map(|t| t.strip_prefix("Bot ").unwrap_or(t)) == Some(TOKEN)
}

/// One gateway connection: HELLO, IDENTIFY or RESUME, heartbeats, and dispatches.
async fn gateway_conn(
    stream: tokio::net::TcpStream,
    state: Arc<Mutex<State>>,
    ids: Arc<AtomicU64>,
    url: String,
) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else { return };
    let (mut sink, mut source) = ws.split();
    let hello = json!({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}}).to_string();
    if sink.send(WsMessage::Text(hello)).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Outgoing>();
    // The shard this connection runs, once it has identified or resumed.
    let mut mine: Option<u32> = None;
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outgoing::Frame(f)) => {
                    if sink.send(WsMessage::Text(f)).await.is_err() { break; }
                }
                Some(Outgoing::Drop) | None => break,
            },
            msg = source.next() => {
                let Some(Ok(msg)) = msg else { break };
                let text = match msg {
                    WsMessage::Text(t) => t,
                    WsMessage::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
                    WsMessage::Close(_) => break,
                    _ => continue,
                };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { break };
                match v["op"].as_u64() {
                    Some(1) => {
                        {
                            let mut st = lock(&state);
                            if let Some(gw) = mine.and_then(|m| st.shards.get_mut(&m)) {
                                gw.heartbeats += 1;
                            }
                        }
                        let ack = json!({"op": 11, "d": null}).to_string();
                        if sink.send(WsMessage::Text(ack)).await.is_err() { break; }
                    }
                    Some(2) => {
                        if !token_ok(&v["d"]["token"]) {
                            let _ = sink.send(WsMessage::Close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                                code: 4004.into(), reason: "Authentication failed.".into() }))).await;
                            break;
                        }
                        // `shard: [id, total]`, optional for a bot of one shard.
                        let asked = &v["d"]["shard"];
                        let (id, total) = match (asked[0].as_u64(), asked[1].as_u64()) {
                            _ if asked.is_null() => (0, 1),
                            (Some(id), Some(total)) if id < total && total <= 16_384 => (id as u32, total as u32),
                            _ => {
                                let _ = sink.send(WsMessage::Close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                                    code: 4010.into(), reason: "Invalid shard.".into() }))).await;
                                break;
                            }
                        };
                        let mut st = lock(&state);
                        let session = format!("session-{}", snowflake(&ids));
                        st.shard_total = total;
                        let total64 = u64::from(total);
                        let guilds: Vec<_> = st.guilds.iter().filter(|(g, _, _)| (g >> 22) % total64 == u64::from(id)).cloned().collect();
                        let gw = st.shards.entry(id).or_default();
                        if gw.conn.as_ref().is_some_and(|c| !c.is_closed() && !c.same_channel(&tx)) {
                            gw.takeovers += 1;
                        }
                        gw.identifies += 1;
                        gw.intents = v["d"]["intents"].as_u64();
                        gw.session = Some(session.clone());
                        gw.seq = 0;
                        gw.history.clear();
                        gw.conn = Some(tx.clone());
                        mine = Some(id);
                        push_dispatch(gw, "READY", ready_payload(&url, &session, &guilds, [id, total]));
                        for g in &guilds {
                            push_dispatch(gw, "GUILD_CREATE", guild_payload(g));
                        }
                    }
                    Some(6) => {
                        let mut st = lock(&state);
                        let asked = v["d"]["session_id"].as_str();
                        let found = st.shards.iter_mut().find(|(_, g)| g.session.is_some() && g.session.as_deref() == asked);
                        let Some((id, gw)) = found.filter(|_| token_ok(&v["d"]["token"])) else {
                            // Invalid session, not resumable: the client must IDENTIFY.
                            let _ = tx.send(Outgoing::Frame(json!({"op": 9, "d": false}).to_string()));
                            continue;
                        };
                        mine = Some(*id);
                        gw.resumes += 1;
                        let from = v["d"]["seq"].as_u64().unwrap_or(0);
                        for (s, frame) in &gw.history {
                            if *s > from {
                                let _ = tx.send(Outgoing::Frame(frame.clone()));
                            }
                        }
                        gw.conn = Some(tx.clone());
                        push_dispatch(gw, "RESUMED", json!({}));
                    }
                    _ => {}
                }
            }
        }
    }
    // This connection is gone; dispatches queue in the history until a RESUME.
    let mut st = lock(&state);
    for gw in st.shards.values_mut() {
        if gw.conn.as_ref().is_some_and(|c| c.same_channel(&tx)) {
            gw.conn = None;
        }
    }
}
