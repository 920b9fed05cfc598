//! A chat platform that behaves like a real one and can be told how to answer (it keeps
//! what it accepted and drops a repeated idempotency key, as Discord's nonce and Matrix's
//! transaction id do), and the `World` a delivery test runs in: a loopback feed site, an
//! app on a manual clock, the command core and the outbox dispatcher posting to that
//! platform.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald::app::App;
use herald::clock::{Clock, ManualClock, SharedClock};
use herald::commands::parse::Role;
use herald::commands::{Core, CoreLimits, Ctx};
use herald::deliver::digest::DigestLimits;
use herald::deliver::outbox::{DispatchReport, Dispatcher};
use herald::ingest::PollReport;
use herald::platform::{Platform, SendError, SendFuture, Sent};
use herald::reply::{Reply, Tone};
use tokio::sync::Notify;

use super::{Site, T0, app, postgres, rss};

/// The `channels.platform` of the scripted chat platform.
pub const PLATFORM: &str = "chat";
const MIN: i64 = 60;

// ---------------------------------------------------------------------------------------
// A chat platform that behaves like a real one, and can be told how to answer.

/// How the platform answers one send to a channel.
#[derive(Debug, Clone)]
pub enum Answer {
    Accept,
    /// HTTP 429 with Retry-After.
    RateLimited(u64),
    /// HTTP 500.
    ServerError,
    /// HTTP 403 with this reason.
    Forbidden(&'static str),
    /// The platform takes the message, but herald never hears back (it died between the
    /// send and recording it).
    AcceptThenLose,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub channel: String,
    pub key: String,
    pub reply: Reply,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub key: String,
    pub at: i64,
}

#[derive(Default)]
pub struct ChatState {
    pub accepted: Vec<Message>,
    /// (channel, key) → message id, for dropping a repeated key.
    pub by_key: HashMap<(String, String), String>,
    pub calls: HashMap<String, Vec<Call>>,
    pub scripts: HashMap<String, VecDeque<Answer>>,
}

impl ChatState {
    /// Keeps the message unless this key was already accepted in this channel; either way
    /// answers with the message's id, as Discord does for a repeated nonce.
    pub fn accept(&mut self, channel: &str, key: &str, reply: &Reply) -> String {
        let slot = (channel.to_string(), key.to_string());
        if let Some(id) = self.by_key.get(&slot) {
            return id.clone();
        }
        let id = format!("m{}", self.accepted.len() + 1);
        self.accepted.push(Message {
            channel: channel.to_string(),
            key: key.to_string(),
            reply: reply.clone(),
        });
        self.by_key.insert(slot, id.clone());
        id
    }
}

pub struct ScriptedPlatform {
    pub clock: SharedClock,
    pub state: Mutex<ChatState>,
}

impl ScriptedPlatform {
    pub fn new(clock: SharedClock) -> ScriptedPlatform {
        ScriptedPlatform { clock, state: Mutex::default() }
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, ChatState> {
        self.state.lock().expect("chat state lock")
    }

    /// Answers for the next sends to `channel`, in order; after them, every send is accepted.
    pub fn script(&self, channel: &str, answers: impl IntoIterator<Item = Answer>) {
        self.lock().scripts.entry(channel.to_string()).or_default().extend(answers);
    }

    pub fn messages(&self, channel: &str) -> Vec<Message> {
        self.lock().accepted.iter().filter(|m| m.channel == channel).cloned().collect()
    }

    pub fn all_messages(&self) -> Vec<Message> {
        self.lock().accepted.clone()
    }

    pub fn calls(&self, channel: &str) -> Vec<Call> {
        self.lock().calls.get(channel).cloned().unwrap_or_default()
    }

    pub fn total_calls(&self) -> usize {
        self.lock().calls.values().map(Vec::len).sum()
    }
}

impl Platform for ScriptedPlatform {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn send<'a>(&'a self, external_id: &'a str, reply: &'a Reply, key: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let at = self.clock.now();
            let mut state = self.lock();
            state
                .calls
                .entry(external_id.to_string())
                .or_default()
                .push(Call { key: key.to_string(), at });
            let answer = state
                .scripts
                .get_mut(external_id)
                .and_then(VecDeque::pop_front)
                .unwrap_or(Answer::Accept);
            match answer {
                Answer::Accept => {
                    Ok(Sent { message_id: Some(state.accept(external_id, key, reply)) })
                }
                Answer::RateLimited(secs) => {
                    Err(SendError::RateLimited { retry_after: Duration::from_secs(secs) })
                }
                Answer::ServerError => Err(SendError::Transient("HTTP 500".into())),
                Answer::Forbidden(reason) => Err(SendError::Permanent(reason.into())),
                Answer::AcceptThenLose => {
                    state.accept(external_id, key, reply);
                    Err(SendError::Transient("connection reset before the answer".into()))
                }
            }
        })
    }

    fn digest_limits(&self) -> DigestLimits {
        DigestLimits::DISCORD
    }
}

// ---------------------------------------------------------------------------------------
// The world a test runs in.

pub struct World {
    pub dir: tempfile::TempDir,
    pub clock: ManualClock,
    pub site: Site,
    pub app: App,
    pub core: Core,
    pub chat: Arc<ScriptedPlatform>,
    pub dispatcher: Dispatcher,
    pub community: i64,
}

pub async fn world() -> World {
    world_at(T0).await
}

tokio::task_local! {
    /// The database the worlds of a test run use: see [`on_each_backend`].
    static BACKEND: &'static str;
}

/// Runs `test` on SQLite and then (unless `HERALD_SKIP_POSTGRES=1`) on PostgreSQL: every
/// [`world`] it makes opens a fresh database of that backend.
pub async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    eprintln!("--- on sqlite");
    BACKEND.scope("sqlite", test()).await;
    if postgres::shared().is_some() {
        eprintln!("--- on postgres");
        BACKEND.scope("postgres", test()).await;
    }
}

pub async fn world_at(start: i64) -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(start);
    let site = Site::start().await;
    let database = match BACKEND.try_with(|b| *b) {
        Ok("postgres") => {
            let cluster = postgres::shared().expect("PostgreSQL for on_each_backend");
            Some(cluster.fresh_database().await)
        }
        _ => None,
    };
    let backend = if database.is_some() { "postgres" } else { "sqlite" };
    let app = app(dir.path(), &clock, |config| {
        if let Some(url) = database {
            config.database_url = url;
        }
    })
    .await;
    assert_eq!(app.store.backend(), backend);
    let core = Core::new(
        app.store.clone(),
        app.fetcher.clone(),
        app.clock.clone(),
        CoreLimits::default(),
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
    );
    let chat = Arc::new(ScriptedPlatform::new(app.clock.clone()));
    let platforms: Vec<Arc<dyn Platform>> = vec![chat.clone()];
    let dispatcher = Dispatcher::new(app.store.clone(), app.clock.clone(), platforms);
    let community =
        app.store.ensure_community(PLATFORM, "guild-1", Some("Guild"), start).await.expect("guild");
    World { dir, clock, site, app, core, chat, dispatcher, community }
}

/// One row of the outbox, read on a separate read-only connection.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub channel_id: i64,
    pub article_id: i64,
    pub idem_key: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
}

impl World {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// A context for a channel of this world's community, built as `run::start` builds the
    /// console's.
    pub async fn ctx(&self, channel: &str, role: Role) -> Ctx {
        self.ctx_in(self.community, channel, role).await
    }

    pub async fn ctx_in(&self, community: i64, channel: &str, role: Role) -> Ctx {
        let row = self
            .app
            .store
            .ensure_channel(community, PLATFORM, channel, Some(channel), self.now())
            .await
            .expect("channel");
        Ctx {
            community_id: community,
            channel: row,
            user: format!("user-in-{channel}"),
            role,
            operator: false,
            local_files: false,
            scope: herald::commands::Scope::Community,
        }
    }

    /// Runs a command as an adapter does, then re-reads the channel (as `run.rs` does).
    pub async fn cmd(&self, ctx: &mut Ctx, text: &str) -> Reply {
        let reply = self.core.handle_text(ctx, text).await;
        if let Some(ch) = self.app.store.channel(ctx.channel.id).await.expect("read channel") {
            ctx.channel = ch;
        }
        reply
    }

    /// A command that must succeed.
    pub async fn ok(&self, ctx: &mut Ctx, text: &str) -> Reply {
        let reply = self.cmd(ctx, text).await;
        assert_ne!(reply.tone, Tone::Error, "`{text}` failed: {reply:#?}");
        reply
    }

    /// Serves an RSS feed at `path`.
    pub fn publish(&self, path: &str, title: &str, items: &[(&str, &str, &str, &str)]) {
        self.site.feed(path, "application/rss+xml", &rss(title, items));
    }

    /// `feeds add` through the core; returns the new feed's id (not yet polled).
    pub async fn add_feed(&self, ctx: &mut Ctx, path: &str) -> i64 {
        let url = self.site.url(path);
        self.ok(ctx, &format!("feeds add {url}")).await;
        let feeds = self.app.store.community_feeds(ctx.community_id).await.expect("feeds");
        feeds.iter().find(|f| f.feed.url == url).map(|f| f.feed.id).expect("feed was added")
    }

    /// Polls what is due now.
    pub async fn poll_now(&self) -> PollReport {
        self.app.poller.poll_due(16).await.expect("poll")
    }

    /// Lets 20 minutes pass (every feed is due again) and polls.
    pub async fn poll_later(&self) -> PollReport {
        self.clock.advance(20 * MIN);
        self.poll_now().await
    }

    pub async fn dispatch(&self) -> DispatchReport {
        self.dispatcher.run_once().await.expect("dispatch round")
    }

    pub async fn channel_id(&self, external: &str) -> i64 {
        self.app
            .store
            .channel_by_external(PLATFORM, external)
            .await
            .expect("read channel")
            .expect("channel exists")
            .id
    }

    pub async fn counts(&self) -> Vec<(String, i64)> {
        self.app.store.delivery_counts().await.expect("counts")
    }

    /// Every delivery row, straight from the database (on a connection of its own).
    pub async fn deliveries(&self) -> Vec<DeliveryRow> {
        read_outbox(&self.app.config.database_url, self.dir.path()).await
    }

    /// The idempotency key the outbox gave the post of `article` to `channel`.
    pub async fn key(&self, article: i64, channel: i64) -> String {
        key_in(&self.deliveries().await, article, channel)
    }
}

/// Every delivery row of the database at `url` (SQLite's: the file in `dir`), on a
/// connection of its own.
pub async fn read_outbox(url: &str, dir: &Path) -> Vec<DeliveryRow> {
    if !herald::store::is_postgres_url(url) {
        return read_deliveries(dir).await;
    }
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    let rows = sqlx::query_as(DELIVERY_ROWS).fetch_all(&pool).await.expect("read deliveries");
    pool.close().await;
    rows
}

const DELIVERY_ROWS: &str = "SELECT channel_id, article_id, idem_key, state, attempts, \
     next_attempt_at FROM deliveries ORDER BY id";

pub async fn read_deliveries(dir: &Path) -> Vec<DeliveryRow> {
    let url = format!("sqlite://{}?mode=ro", dir.join("herald.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("open database read-only");
    let rows = sqlx::query_as(DELIVERY_ROWS).fetch_all(&pool).await.expect("read deliveries");
    pool.close().await;
    rows
}

pub fn key_in(rows: &[DeliveryRow], article: i64, channel: i64) -> String {
    rows.iter()
        .find(|d| d.article_id == article && d.channel_id == channel)
        .map(|d| d.idem_key.clone())
        .unwrap_or_else(|| panic!("no delivery of article {article} to channel {channel}"))
}

pub fn article_id_from_footer(reply: &Reply) -> i64 {
    let footer = reply.footer.as_deref().expect("a post has a footer");
    footer.rsplit('#').next().and_then(|n| n.parse().ok()).expect("footer ends with #ID")
}

pub fn digest_titles(reply: &Reply) -> Vec<String> {
    reply.sections.iter().flat_map(|s| &s.items).map(|i| i.title.clone()).collect()
}

pub fn all_text(reply: &Reply) -> String {
    format!("{reply:?}")
}
