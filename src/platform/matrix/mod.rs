//! herald as a Matrix bot (matrix-sdk): commands in rooms, posts and digests as
//! `m.notice` with HTML, end-to-end encryption.
//!
//! - A room is a community with one channel, both keyed by the room id (never parsed:
//!   newer room ids have no `:server` part).
//! - `PREFIX command` in a room is parsed by the command core and run with a role from
//!   the room's power levels: the state-changing level (`state_default`) makes an admin,
//!   `MATRIX_MANAGER_LEVEL` a channel manager; room creators of v12+ rooms have
//!   unlimited power and are admins; `HERALD_OPERATORS` matrix ids may do anything.
//!   The answer is sent as a reply to the command (in its thread when it has one).
//! - Invites are joined (optionally only from `MATRIX_INVITE_ALLOWLIST`); leaving, a kick
//!   or a ban pauses the room's channel, and joining again resumes it.
//! - Posts go through the outbox: [`MatrixPlatform`] sends with the idempotency key as
//!   the transaction id, which the homeserver deduplicates for this device, so a resend
//!   after a crash is dropped.
//! - The session (user, device, token) is kept in `DATA/matrix/session.json` and the
//!   state and crypto stores in `DATA/matrix/` (SQLite), so a restart is the same device
//!   with the same keys. The device is cross-signed by the account at first start
//!   ([`identity`]), so clients show herald's messages as verified.

pub mod identity;
pub mod leader;
pub mod render;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::{RequestConfig, SyncSettings};
use matrix_sdk::event_handler::Ctx as HandlerCtx;
use matrix_sdk::ruma::api::client::filter::FilterDefinition;
use matrix_sdk::ruma::api::client::sync::sync_events;
use matrix_sdk::ruma::api::error::{ErrorKind, LimitExceededErrorData, RetryAfter};
use matrix_sdk::ruma::events::relation::Thread;
use matrix_sdk::ruma::events::room::member::{
    MembershipState, StrippedRoomMemberEvent, SyncRoomMemberEvent,
};
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation,
};
use matrix_sdk::ruma::events::room::power_levels::UserPowerLevel;
use matrix_sdk::ruma::{
    EventId, Int, OwnedEventId, OwnedRoomId, OwnedTransactionId, OwnedUserId, RoomId, UserId,
};
use matrix_sdk::{Client, Room, RoomState, SessionMeta, SessionTokens};
use serde_json::json;
use tokio::sync::watch;

use super::{Platform, SendError, SendFuture, Sent};
use crate::clock::SharedClock;
use crate::commands::parse::{self, Role};
use crate::commands::{Core, Ctx};
use crate::config::{CommunityConfig, MatrixAuth, MatrixConfig};
use crate::deliver::digest::DigestLimits;

impl DigestLimits {
    /// A Matrix event must stay under 65,536 bytes of JSON, and the text goes in
    /// twice (`body` and HTML `formatted_body`). 8000 characters stay under that
    /// even for 3-byte scripts (CJK) with escaping and markup; 50 items keep a
    /// part readable in a room.
    pub const MATRIX: DigestLimits = DigestLimits { max_chars: 8000, max_items: 50 };
}
use crate::store::Store;

/// The `channels.platform` / `communities.platform` value.
pub const PLATFORM: &str = "matrix";
/// A send that takes longer than this (a homeserver that hangs) is retried later.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// What the event handlers share.
struct Shared {
    core: Core,
    store: Store,
    clock: SharedClock,
    community: CommunityConfig,
    cfg: MatrixConfig,
    addressing: Addressing,
    answered: std::sync::Mutex<Answered>,
    /// Unix milliseconds: older commands were the previous sync leader's to answer.
    floor_ms: Arc<std::sync::atomic::AtomicI64>,
}

/// A logged-in Matrix client with its sync loop running.
pub struct MatrixBot {
    client: Client,
    platform: Arc<MatrixPlatform>,
    synced: watch::Receiver<bool>,
    /// Unix seconds of the latest sync response (0: none yet), for `/readyz`.
    last_sync: Arc<std::sync::atomic::AtomicI64>,
    sync_task: tokio::task::JoinHandle<()>,
    identity_task: tokio::task::JoinHandle<()>,
    leadership: leader::Leadership,
}

impl MatrixBot {
    /// Logs in (or restores the saved session), registers the event handlers and starts
    /// syncing. Fails only when the homeserver refuses the credentials or the store
    /// cannot be opened; a homeserver that is down is retried by the sync loop.
    /// Syncing waits for the sync lease ([`leader`]), held for `leader_ttl` at a time.
    #[allow(clippy::too_many_arguments)] // the app's parts this adapter uses, each once
    pub async fn start(
        cfg: &MatrixConfig,
        data_dir: &Path,
        core: Core,
        store: Store,
        clock: SharedClock,
        community: CommunityConfig,
        leader_ttl: Duration,
    ) -> anyhow::Result<MatrixBot> {
        let dir = data_dir.join("matrix");
        std::fs::create_dir_all(&dir)?;
        let client = Client::builder()
            .homeserver_url(&cfg.homeserver)
            .sqlite_store(&dir, cfg.store_passphrase.as_deref())
            .build()
            .await?;
        login(&client, cfg, &dir).await?;
        let sync_clock = clock.clone();
        let leadership = leader::Leadership::start(
            store.clone(),
            clock.clone(),
            leader::holder_id(data_dir),
            leader_ttl,
        );
        let addressing = Addressing::new(&cfg.prefix, client.user_id());
        let shared = Arc::new(Shared {
            core,
            store,
            clock,
            community,
            cfg: cfg.clone(),
            addressing,
            answered: std::sync::Mutex::default(),
            floor_ms: leadership.floor_ms.clone(),
        });
        client.add_event_handler_context(shared);
        client.add_event_handler(on_invite);
        client.add_event_handler(on_member);
        client.add_event_handler(on_message);

        let (tx, synced) = watch::channel(false);
        let last_sync = Arc::new(std::sync::atomic::AtomicI64::new(0));
        let seen = last_sync.clone();
        let c = client.clone();
        let mut leading = leadership.leading.clone();
        let sync_task = tokio::spawn(async move {
            // Synapse sends 10 timeline events a room by default and skips older ones
            // (a "limited" timeline): a burst of commands would lose some. 200 covers
            // any room a person types into.
            let mut filter = FilterDefinition::default();
            filter.room.timeline.limit = Some(matrix_sdk::ruma::uint!(200));
            let settings = SyncSettings::default()
                .timeout(Duration::from_secs(30))
                .filter(sync_events::v3::Filter::FilterDefinition(filter));
            loop {
                // Only the holder of the sync lease syncs (and so answers commands).
                if leading.wait_for(|l| *l).await.is_err() {
                    return;
                }
                let (tx, seen, sync_clock) = (tx.clone(), seen.clone(), sync_clock.clone());
                let still = leading.clone();
                let result = c
                    .sync_with_callback(settings.clone(), move |_| {
                        let _ = tx.send(true);
                        seen.store(sync_clock.now(), std::sync::atomic::Ordering::Relaxed);
                        let lead = *still.borrow();
                        async move {
                            if lead {
                                matrix_sdk::LoopCtrl::Continue
                            } else {
                                matrix_sdk::LoopCtrl::Break
                            }
                        }
                    })
                    .await;
                if let Err(e) = result {
                    tracing::warn!("matrix sync failed, retrying: {e}");
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        // Cross-signing needs the device's keys on the server: after the first sync.
        let (c, id_cfg, mut first) = (client.clone(), cfg.clone(), synced.clone());
        let identity_task = tokio::spawn(async move {
            if first.wait_for(|s| *s).await.is_ok() {
                identity::ensure_and_report(&c, &id_cfg).await;
            }
        });
        let platform = Arc::new(MatrixPlatform {
            client: client.clone(),
            prefix: cfg.prefix.clone(),
            leading: leadership.leading.clone(),
        });
        Ok(MatrixBot { client, platform, synced, last_sync, sync_task, identity_task, leadership })
    }

    /// The outbox's way to post here.
    pub fn platform(&self) -> Arc<dyn Platform> {
        self.platform.clone()
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Waits until the first sync response was processed (keys uploaded, rooms known).
    pub async fn wait_synced(&self) {
        let mut rx = self.synced.clone();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// For `/readyz`: a sync response came within the last 90 s.
    /// A process waiting for the sync lease is ready: Matrix is another's job then.
    pub fn connected_probe(&self, clock: SharedClock) -> crate::service::health::ConnectedProbe {
        let synced = crate::service::health::last_sync_probe(self.last_sync.clone(), clock);
        let leading = self.leadership.leading.clone();
        Arc::new(move || {
            let lead = *leading.borrow();
            let synced = synced.clone();
            Box::pin(async move { !lead || synced().await })
        })
    }

    /// Whether this process holds the sync lease (syncs and posts) now.
    pub fn is_leading(&self) -> bool {
        self.leadership.is_leading()
    }

    pub async fn stop(self) {
        self.identity_task.abort();
        let _ = self.identity_task.await;
        self.sync_task.abort();
        let _ = self.sync_task.await;
        self.leadership.stop().await;
    }
}

impl super::Adapter for MatrixBot {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn platform(&self) -> Arc<dyn Platform> {
        MatrixBot::platform(self)
    }

    fn connected_probe(&self, clock: SharedClock) -> crate::service::health::ConnectedProbe {
        MatrixBot::connected_probe(self, clock)
    }

    fn stop(self: Box<Self>) -> futures_util::future::BoxFuture<'static, ()> {
        Box::pin(MatrixBot::stop(*self))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Restores `dir/session.json` if it is this user's, else logs in and saves it: one
/// device for the life of the data directory, so the crypto store stays valid.
async fn login(client: &Client, cfg: &MatrixConfig, dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("session.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let session: MatrixSession = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is damaged: {e}", path.display()))?;
        if cfg.user.starts_with('@') && session.meta.user_id.as_str() != cfg.user {
            anyhow::bail!(
                "MATRIX_USER: {} holds the session of {}, not {}; move it away to log in anew",
                path.display(),
                session.meta.user_id,
                cfg.user
            );
        }
        client.restore_session(session).await?;
        return Ok(());
    }
    let session = match &cfg.auth {
        MatrixAuth::Password(password) => {
            let localpart = cfg
                .user
                .strip_prefix('@')
                .map_or(cfg.user.as_str(), |u| u.split_once(':').map_or(u, |(l, _)| l));
            client
                .matrix_auth()
                .login_username(localpart, password)
                .initial_device_display_name("herald")
                .send()
                .await
                .map_err(|e| {
                    anyhow::anyhow!("MATRIX_PASSWORD: login as {} failed: {e}", cfg.user)
                })?;
            client
                .matrix_auth()
                .session()
                .ok_or_else(|| anyhow::anyhow!("no session after login"))?
        }
        MatrixAuth::AccessToken(token) => {
            // The device id comes with the token: ask the homeserver who we are.
            let who = whoami(&cfg.homeserver, token).await?;
            let session = MatrixSession {
                meta: SessionMeta { user_id: who.0, device_id: who.1.into() },
                tokens: SessionTokens { access_token: token.clone(), refresh_token: None },
            };
            client.restore_session(session.clone()).await?;
            session
        }
    };
    write_private(&path, &serde_json::to_string(&session)?)?;
    Ok(())
}

async fn whoami(
    homeserver: &str,
    token: &str,
) -> anyhow::Result<(matrix_sdk::ruma::OwnedUserId, String)> {
    #[derive(serde::Deserialize)]
    struct Who {
        user_id: matrix_sdk::ruma::OwnedUserId,
        device_id: Option<String>,
    }
    let resp = reqwest::Client::new()
        .get(format!("{homeserver}/_matrix/client/v3/account/whoami"))
        .bearer_auth(token)
        .send()
        .await?;
    if !resp.status().is_success() {
        anyhow::bail!("MATRIX_ACCESS_TOKEN: the homeserver refused it ({})", resp.status());
    }
    let who: Who = serde_json::from_slice(&resp.bytes().await?)?;
    let device = who.device_id.ok_or_else(|| {
        anyhow::anyhow!("MATRIX_ACCESS_TOKEN: the token has no device; use MATRIX_PASSWORD")
    })?;
    Ok((who.user_id, device))
}

/// Writes a file only its owner can read (it holds an access token).
fn write_private(path: &PathBuf, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Whether `inviter` may invite herald, by user id or by server.
pub fn invite_allowed(allowlist: &[String], inviter: &UserId) -> bool {
    allowlist.is_empty()
        || allowlist.iter().any(|a| {
            if a.starts_with('@') {
                a == inviter.as_str()
            } else {
                a == inviter.server_name().as_str()
            }
        })
}

async fn on_invite(
    ev: StrippedRoomMemberEvent,
    room: Room,
    client: Client,
    HandlerCtx(shared): HandlerCtx<Arc<Shared>>,
) {
    if Some(ev.state_key.as_ref()) != client.user_id()
        || ev.content.membership != MembershipState::Invite
    {
        return;
    }
    if !invite_allowed(&shared.cfg.invite_allowlist, &ev.sender) {
        tracing::info!(room = %room.room_id(), inviter = %ev.sender, "invite refused (not in MATRIX_INVITE_ALLOWLIST)");
        let _ = room.leave().await;
        return;
    }
    // Joining can race the invite on the homeserver's side; retry a few times.
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(500);
        for _ in 0..6 {
            match room.join().await {
                Ok(()) => {
                    tracing::info!(room = %room.room_id(), inviter = %ev.sender, "joined");
                    return;
                }
                Err(e) => {
                    tracing::warn!(room = %room.room_id(), "join failed, retrying: {e}");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
    });
}

/// herald's own membership: joining (re)opens the room's channel, leaving pauses it.
async fn on_member(
    ev: SyncRoomMemberEvent,
    room: Room,
    client: Client,
    HandlerCtx(shared): HandlerCtx<Arc<Shared>>,
) {
    if Some(ev.state_key().as_ref()) != client.user_id() {
        return;
    }
    let result = match ev.membership() {
        MembershipState::Join => match channel(&shared, &room).await {
            Ok(ch) if ch.paused_reason.is_some() => {
                tracing::info!(room = %room.room_id(), "rejoined: resuming the room's posts");
                shared.store.set_channel_paused(ch.id, None).await
            }
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        },
        m @ (MembershipState::Leave | MembershipState::Ban) => {
            let by = ev.sender();
            let reason = match (m, Some(by) == client.user_id()) {
                (MembershipState::Ban, _) => format!("herald was banned from this room by {by}"),
                (_, true) => "herald left this room".to_string(),
                (_, false) => format!("herald was removed from this room by {by}"),
            };
            match shared.store.channel_by_external(PLATFORM, room.room_id().as_str()).await {
                Ok(Some(ch)) => {
                    tracing::info!(room = %room.room_id(), "{reason}: pausing the room's posts");
                    shared.store.set_channel_paused(ch.id, Some(&reason)).await
                }
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            }
        }
        _ => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(room = %room.room_id(), "recording herald's membership failed: {e}");
    }
}

/// The room's community and channel, made on first sight.
async fn channel(
    shared: &Shared,
    room: &Room,
) -> Result<crate::store::ChannelRow, crate::store::StoreError> {
    let id = room.room_id().as_str();
    // Read first: most commands come from rooms herald already knows.
    if let Some(ch) = shared.store.channel_by_external(PLATFORM, id).await? {
        return Ok(ch);
    }
    let now = shared.clock.now();
    let name = room.name();
    let community = shared.store.ensure_community(PLATFORM, id, name.as_deref(), now).await?;
    shared.store.ensure_channel(community, PLATFORM, id, name.as_deref(), now).await
}

/// What addresses herald at the start of a message.
#[derive(Debug, Clone)]
pub struct Addressing {
    /// `!herald`, matched in any case (phones capitalise `!Herald`).
    pub prefix: String,
    /// herald's localpart and full user id: `herald: help`, `@herald:example.org: help`.
    pub names: Vec<String>,
}

impl Addressing {
    pub fn new(prefix: &str, user: Option<&UserId>) -> Addressing {
        let names = user
            .map(|u| vec![u.localpart().to_string(), u.as_str().to_string()])
            .unwrap_or_default();
        Addressing { prefix: prefix.to_string(), names }
    }

    /// The command in `body`, if it is addressed to herald: after the prefix (alone, it
    /// means help), after herald's name and `:` or `,`, or, when the message mentions
    /// herald (`m.mentions`, as a pill does), after the pill's text and its `:`.
    pub fn command_text<'a>(&self, body: &'a str, mentioned: bool) -> Option<&'a str> {
        let body = body.trim_start();
        let rest = strip_prefix_ignore_case(body, &self.prefix)
            .filter(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
            .or_else(|| {
                self.names.iter().find_map(|name| {
                    let rest = strip_prefix_ignore_case(body, name)?;
                    rest.strip_prefix(':').or_else(|| rest.strip_prefix(','))
                })
            })
            .or_else(|| {
                // A pill's plain text is the display name, which herald does not know:
                // take what follows the first `:` of the first line.
                let line = body.lines().next()?;
                let (name, rest) = line.split_once(':')?;
                (mentioned && !name.trim().is_empty() && name.len() <= 64)
                    .then(|| &body[name.len() + 1..])
                    .filter(|_| rest.starts_with(char::is_whitespace) || rest.is_empty())
            })?;
        let rest = rest.trim();
        Some(if rest.is_empty() { "help" } else { rest })
    }
}

/// `text` without `prefix` matched case-insensitively (ASCII), if it starts with it.
fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Command events herald has answered (or is about to), so an edit of one is not
/// answered again; bounded, the oldest forgotten first.
#[derive(Default)]
struct Answered {
    seen: std::collections::HashSet<OwnedEventId>,
    order: std::collections::VecDeque<OwnedEventId>,
    /// Edits of unanswered messages waiting out [`EDIT_SETTLE`]: the latest text wins.
    pending_edits: std::collections::HashMap<OwnedEventId, String>,
}

/// How many answered events [`Answered`] remembers.
const ANSWERED_CAP: usize = 4096;
/// An edit is answered after this quiet time, so a burst of edits gets one answer, for
/// the latest text.
const EDIT_SETTLE: Duration = Duration::from_secs(1);

impl Answered {
    /// Records `id` as answered; false if it already was.
    fn claim(&mut self, id: &EventId) -> bool {
        if !self.seen.insert(id.to_owned()) {
            return false;
        }
        self.order.push_back(id.to_owned());
        if self.order.len() > ANSWERED_CAP
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }
}

/// The role `level` gives in a room whose state-changing level is `admin`.
pub fn role_for(level: UserPowerLevel, admin: Int, manager: i64) -> Role {
    let manager = Int::new(manager).unwrap_or(admin);
    if level >= admin {
        Role::Admin
    } else if level >= manager {
        Role::ChannelManager
    } else {
        Role::Member
    }
}

async fn on_message(
    ev: OriginalSyncRoomMessageEvent,
    room: Room,
    client: Client,
    HandlerCtx(shared): HandlerCtx<Arc<Shared>>,
) {
    if room.state() != RoomState::Joined || Some(ev.sender.as_ref()) == client.user_id() {
        return;
    }
    // Notices are bots talking; only people's text messages are commands. An edit
    // carries its new text in `m.new_content` and names the message it replaces.
    let (msgtype, mentions, edited) = match &ev.content.relates_to {
        Some(Relation::Replacement(r)) => {
            (&r.new_content.msgtype, r.new_content.mentions.as_ref(), Some(r.event_id.clone()))
        }
        _ => (&ev.content.msgtype, ev.content.mentions.as_ref(), None),
    };
    let MessageType::Text(text) = msgtype else { return };
    let sent_ms = i64::try_from(u64::from(ev.origin_server_ts.0)).unwrap_or(i64::MAX);
    if sent_ms < shared.floor_ms.load(std::sync::atomic::Ordering::Relaxed) {
        return; // the previous sync leader's to answer
    }
    let mentioned =
        client.user_id().is_some_and(|me| mentions.is_some_and(|m| m.user_ids.contains(me)));
    let Some(command) = shared.addressing.command_text(&text.body, mentioned).map(str::to_string)
    else {
        return;
    };
    let role = match room.power_levels().await {
        Ok(pl) => role_for(pl.for_user(&ev.sender), pl.state_default, shared.cfg.manager_level),
        Err(e) => {
            tracing::warn!(room = %room.room_id(), "power levels unknown ({e}); treating as member");
            Role::Member
        }
    };
    let Some(original) = edited else {
        if !lock_answered(&shared).claim(&ev.event_id) {
            return;
        }
        let to = AnswerTo::of(&ev);
        // A command may take a while (`feeds add` fetches the feed): answer it on its
        // own task so the sync loop, and other rooms, do not wait.
        tokio::spawn(async move {
            if claim_event(&shared, &to.event_id).await {
                answer(&shared, &room, &to, role, &command).await;
            }
        });
        return;
    };
    // An edit is answered once, for its latest text, unless the message it edits was
    // answered already.
    {
        let mut answered = lock_answered(&shared);
        if answered.seen.contains(&original) {
            return;
        }
        if answered.pending_edits.insert(original.clone(), command).is_some() {
            return; // the task waiting for this message takes the newer text
        }
    }
    let to = AnswerTo { sender: ev.sender.clone(), event_id: original.clone(), thread_root: None };
    tokio::spawn(async move {
        tokio::time::sleep(EDIT_SETTLE).await;
        let command = {
            let mut answered = lock_answered(&shared);
            let Some(command) = answered.pending_edits.remove(&original) else { return };
            if !answered.claim(&original) {
                return;
            }
            command
        };
        if claim_event(&shared, &original).await {
            answer(&shared, &room, &to, role, &command).await;
        }
    });
}

/// Claims `event` in the database, so that no other process (a new sync leader
/// replaying the old one's last events) answers it too. A database that cannot say
/// does not keep the command from its answer.
async fn claim_event(shared: &Shared, event: &EventId) -> bool {
    match shared.store.claim_event(PLATFORM, event.as_str(), shared.clock.now()).await {
        Ok(fresh) => fresh,
        Err(e) => {
            tracing::warn!("recording answered event {event} failed: {e}");
            true
        }
    }
}

fn lock_answered(shared: &Shared) -> std::sync::MutexGuard<'_, Answered> {
    // A poisoned lock only means another handler panicked mid-update of a cache.
    shared.answered.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The message an answer replies to.
struct AnswerTo {
    sender: OwnedUserId,
    event_id: OwnedEventId,
    thread_root: Option<OwnedEventId>,
}

impl AnswerTo {
    fn of(ev: &OriginalSyncRoomMessageEvent) -> AnswerTo {
        let thread_root = match &ev.content.relates_to {
            Some(Relation::Thread(Thread { event_id, .. })) => Some(event_id.clone()),
            _ => None,
        };
        AnswerTo { sender: ev.sender.clone(), event_id: ev.event_id.clone(), thread_root }
    }
}

async fn answer(shared: &Shared, room: &Room, to: &AnswerTo, role: Role, command: &str) {
    let reply = match channel(shared, room).await {
        Err(e) => {
            tracing::error!("matrix command: store failed: {e}");
            crate::reply::Reply::error(
                "Something went wrong on herald's side; nothing was changed. Try again shortly.",
            )
        }
        Ok(channel) => {
            let ctx = Ctx {
                community_id: channel.community_id,
                channel,
                user: to.sender.to_string(),
                role,
                operator: shared.community.is_operator(PLATFORM, to.sender.as_str()),
                local_files: false,
                scope: crate::commands::Scope::Community,
            };
            match parse::parse(command) {
                Ok(cmd) => match refuse_unpostable(room, &cmd, &ctx).await {
                    Some(refusal) => refusal,
                    None => shared.core.execute(&ctx, cmd).await,
                },
                Err(e) => crate::reply::Reply::error(e.to_string()),
            }
        }
    };

    let mut content = render::content(&reply, &shared.cfg.prefix);
    content["m.relates_to"] = match &to.thread_root {
        Some(root) => json!({
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": false,
            "m.in_reply_to": { "event_id": to.event_id },
        }),
        None => json!({ "m.in_reply_to": { "event_id": to.event_id } }),
    };
    // One answer per command, even if the command event is seen twice (or edited after
    // a restart, within the homeserver's transaction memory).
    let txn: OwnedTransactionId =
        format!("hr{}", to.event_id.as_str().trim_start_matches('$')).into();
    if let Err(e) = room.send_raw("m.room.message", content).with_transaction_id(&txn).await {
        tracing::warn!(room = %room.room_id(), "answering a command failed: {e}");
    }
}

/// A subscription (or digest schedule) in a room where herald's power level is below
/// what sending a message takes is refused, naming the level needed; `None` lets the
/// command run. Unknown power levels let it run (the first post would tell).
async fn refuse_unpostable(
    room: &Room,
    cmd: &parse::Command,
    ctx: &Ctx,
) -> Option<crate::reply::Reply> {
    use matrix_sdk::ruma::events::MessageLikeEventType;
    let posts_here =
        matches!(cmd, parse::Command::Subscribe { .. } | parse::Command::DigestSchedule { .. });
    if !posts_here || !(ctx.operator || ctx.role >= cmd.required_role()) {
        return None;
    }
    let me = room.own_user_id();
    let levels = room.power_levels().await.ok()?;
    let mut kinds = vec![MessageLikeEventType::RoomMessage];
    if room.encryption_state().is_encrypted() {
        kinds.push(MessageLikeEventType::RoomEncrypted);
    }
    let blocked = kinds.into_iter().find(|k| !levels.user_can_send_message(me, k.clone()))?;
    let needed =
        levels.events.get(&blocked.clone().into()).copied().unwrap_or(levels.events_default);
    let have = match levels.for_user(me) {
        UserPowerLevel::Int(n) => n.to_string(),
        _ => "unlimited".to_string(),
    };
    Some(crate::reply::Reply::error(format!(
        "herald cannot post in this room: sending messages ({blocked}) needs power level \
         {needed}, and herald has {have}. Raise herald's power level to {needed} (room \
         settings → Roles & Permissions), then run `subscribe` again."
    )))
}

/// The outbox's view of Matrix: a room id and a reply in, a message out.
pub struct MatrixPlatform {
    client: Client,
    /// What starts a command in a room, for the commands herald's text mentions.
    prefix: String,
    /// Whether this process holds the sync lease: only the syncing process posts, as
    /// encrypting needs the room's current devices, which syncing keeps.
    leading: watch::Receiver<bool>,
}

impl MatrixPlatform {
    async fn send_inner(
        &self,
        room_id: &str,
        reply: &crate::reply::Reply,
        key: &str,
    ) -> Result<Sent, SendError> {
        self.send_content(room_id, render::content(reply, &self.prefix), key).await
    }

    async fn send_content(
        &self,
        room_id: &str,
        content: serde_json::Value,
        key: &str,
    ) -> Result<Sent, SendError> {
        let room_id: OwnedRoomId = RoomId::parse(room_id)
            .map_err(|e| SendError::Permanent(format!("\"{room_id}\" is not a room id: {e}")))?;
        let room = self.client.get_room(&room_id).ok_or_else(|| {
            SendError::Permanent("herald is not in this room (invite it again)".into())
        })?;
        if room.state() != RoomState::Joined {
            return Err(SendError::Permanent(
                "herald is not in this room any more (invite it again)".into(),
            ));
        }
        let txn: OwnedTransactionId = key.into();
        let send = room
            .send_raw("m.room.message", content)
            .with_transaction_id(&txn)
            .with_request_config(RequestConfig::new().disable_retry().timeout(SEND_TIMEOUT));
        match tokio::time::timeout(SEND_TIMEOUT, send).await {
            Err(_) => Err(SendError::Transient("the homeserver did not answer in time".into())),
            Ok(Ok(r)) => Ok(Sent { message_id: Some(r.response.event_id.to_string()) }),
            Ok(Err(e)) => Err(classify(&e)),
        }
    }
}

impl Platform for MatrixPlatform {
    fn name(&self) -> &'static str {
        PLATFORM
    }

    fn send<'a>(
        &'a self,
        external_id: &'a str,
        reply: &'a crate::reply::Reply,
        key: &'a str,
    ) -> SendFuture<'a> {
        Box::pin(self.send_inner(external_id, reply, key))
    }

    fn deliver<'a>(
        &'a self,
        external_id: &'a str,
        post: &'a crate::deliver::port::Post,
        key: &'a str,
        _progress: &'a dyn crate::deliver::port::Progress,
    ) -> SendFuture<'a> {
        let content = render::post_content(&post.reply, &self.prefix, post.notify);
        Box::pin(self.send_content(external_id, content, key))
    }

    fn digest_limits(&self) -> DigestLimits {
        DigestLimits::MATRIX
    }

    fn ready(&self) -> bool {
        *self.leading.borrow()
    }

    fn community_noun(&self) -> &'static str {
        "room"
    }

    fn regain_access(&self) -> &'static str {
        "invite herald back with a power level that may send messages"
    }

    fn channel_mention(&self, external_id: &str, name: Option<&str>) -> String {
        match name {
            Some(n) if !n.trim().is_empty() => format!("{n} ({external_id})"),
            _ => external_id.to_string(),
        }
    }
}

/// What the outbox should do about a failed send.
fn classify(e: &matrix_sdk::Error) -> SendError {
    let Some(api) = e.as_client_api_error() else {
        // Network errors, timeouts, encryption set-up that could not reach the server.
        return SendError::Transient(e.to_string());
    };
    let kind = api.error_kind();
    if let Some(ErrorKind::LimitExceeded(LimitExceededErrorData { retry_after, .. })) = kind {
        let wait = match retry_after {
            Some(RetryAfter::Delay(d)) => *d,
            Some(RetryAfter::DateTime(t)) => {
                t.duration_since(std::time::SystemTime::now()).unwrap_or_default()
            }
            None => Duration::from_secs(1),
        };
        return SendError::RateLimited { retry_after: wait };
    }
    classify_status(
        api.status_code.as_u16(),
        matches!(kind, Some(ErrorKind::Forbidden)),
        e.to_string(),
    )
}

/// By status: 403 (M_FORBIDDEN: not in the room, or not allowed to post) and 404 are
/// permanent for this room; 429 without a delay waits a second; everything else
/// (5xx, 401 while a token is refreshed, 400 for a one-off) is retried with backoff.
pub fn classify_status(status: u16, forbidden: bool, message: String) -> SendError {
    match status {
        429 => SendError::RateLimited { retry_after: Duration::from_secs(1) },
        403 | 404 => SendError::Permanent(message),
        _ if forbidden => SendError::Permanent(message),
        _ => SendError::Transient(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addressing() -> Addressing {
        let me = UserId::parse("@herald:example.org").expect("valid user id");
        Addressing::new("!herald", Some(&me))
    }

    #[test]
    fn commands_need_the_prefix_as_a_word_in_any_case() {
        let a = addressing();
        assert_eq!(a.command_text("!herald search korea", false), Some("search korea"));
        assert_eq!(a.command_text("!Herald search korea", false), Some("search korea"));
        assert_eq!(a.command_text("!HERALD", false), Some("help"));
        assert_eq!(a.command_text("  !herald  ", false), Some("help"));
        assert_eq!(a.command_text("!heraldry", false), None);
        assert_eq!(a.command_text("hello !herald", false), None);
        assert_eq!(a.command_text("!hérald", false), None);
    }

    #[test]
    fn a_mention_of_herald_is_a_command() {
        let a = addressing();
        assert_eq!(a.command_text("herald: latest 3", false), Some("latest 3"));
        assert_eq!(a.command_text("Herald, help", false), Some("help"));
        assert_eq!(a.command_text("@herald:example.org: search x", false), Some("search x"));
        assert_eq!(a.command_text("heraldic: no", false), None);
        // A pill: the plain text is the display name, known only from `m.mentions`.
        assert_eq!(a.command_text("News Bot: latest", true), Some("latest"));
        assert_eq!(a.command_text("News Bot: latest", false), None);
        assert_eq!(a.command_text("see https://x.org for news", true), None);
    }

    #[test]
    fn answered_commands_are_remembered_boundedly() {
        let mut answered = Answered::default();
        let first = EventId::parse("$first").expect("valid event id");
        assert!(answered.claim(&first));
        assert!(!answered.claim(&first), "an event is answered once");
        for n in 0..ANSWERED_CAP {
            let id = EventId::parse(format!("$e{n}")).expect("valid event id");
            assert!(answered.claim(&id));
        }
        assert!(answered.seen.len() <= ANSWERED_CAP);
        assert!(answered.claim(&first), "the oldest was forgotten");
    }

    #[test]
    fn roles_from_power_levels() {
        let i = |n: i64| Int::new(n).expect("int");
        let admin = i(50);
        assert_eq!(role_for(UserPowerLevel::Infinite, admin, 25), Role::Admin);
        assert_eq!(role_for(UserPowerLevel::Int(i(100)), admin, 25), Role::Admin);
        assert_eq!(role_for(UserPowerLevel::Int(i(50)), admin, 25), Role::Admin);
        assert_eq!(role_for(UserPowerLevel::Int(i(25)), admin, 25), Role::ChannelManager);
        assert_eq!(role_for(UserPowerLevel::Int(i(0)), admin, 25), Role::Member);
        assert_eq!(role_for(UserPowerLevel::Int(i(60)), i(75), 50), Role::ChannelManager);
    }

    #[test]
    fn send_errors_are_classified() {
        assert!(matches!(classify_status(502, false, "x".into()), SendError::Transient(_)));
        assert!(matches!(classify_status(403, true, "x".into()), SendError::Permanent(_)));
        assert!(matches!(classify_status(400, true, "x".into()), SendError::Permanent(_)));
        assert!(matches!(classify_status(429, false, "x".into()), SendError::RateLimited { .. }));
    }

    #[test]
    fn invite_allowlist() {
        let ann = UserId::parse("@ann:example.org").expect("user");
        assert!(invite_allowed(&[], &ann));
        assert!(invite_allowed(&["example.org".into()], &ann));
        assert!(invite_allowed(&["@ann:example.org".into()], &ann));
        assert!(!invite_allowed(&["@bob:example.org".into(), "other.org".into()], &ann));
    }
}
