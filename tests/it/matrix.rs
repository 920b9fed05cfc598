//! herald as a Matrix bot against a real Synapse on 127.0.0.1 (started once for this
//! binary by tests/it/support/synapse.sh): invites and joins, every command allowed and
//! refused by power level, posts and digests as HTML notices, an encrypted room read and
//! answered with a second matrix-sdk client as the user, a herald restart mid-delivery
//! and a Synapse restart.
//!
//! herald runs in-process (`run::start`, the real wiring) on a manual clock; the outbox
//! is driven with `Dispatcher::run_once`, so tests decide when posts go out.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::synapse::{self, Synapse, User};
use crate::support::{Site, T0, app, rss};
use herald::app::App;
use herald::clock::{Clock, ManualClock};
use herald::config::{MatrixAuth, MatrixConfig};
use herald::platform::matrix::MatrixBot;
use herald::platform::terminal::Output;
use herald::run::{Running, start};
use serde_json::{Value, json};

const MIN: i64 = 60;
const HOUR: i64 = 3600;

/// A unique user name per test run (Synapse is shared by the binary's tests).
fn name(base: &str) -> String {
    format!("{base}{}", fastrand::u32(..))
}

fn sink() -> Output {
    Arc::new(Mutex::new(Box::new(std::io::sink())))
}

/// herald on `dir` logged in as `bot`; `operators` are Matrix operators.
async fn herald(
    dir: &Path,
    clock: &ManualClock,
    syn: &Synapse,
    bot: &User,
    operators: &[&str],
) -> (App, Running) {
    herald_with(dir, clock, syn, bot, operators, Vec::new()).await
}

async fn herald_with(
    dir: &Path,
    clock: &ManualClock,
    syn: &Synapse,
    bot: &User,
    operators: &[&str],
    invite_allowlist: Vec<String>,
) -> (App, Running) {
    let auth = MatrixAuth::Password(bot.password.clone());
    let (app, running) = herald_as(dir, clock, syn, bot, auth, operators, invite_allowlist).await;
    let running = running.expect("herald starts with Matrix");
    running.adapter::<MatrixBot>().expect("matrix bot").wait_synced().await;
    (app, running)
}

async fn herald_as(
    dir: &Path,
    clock: &ManualClock,
    syn: &Synapse,
    bot: &User,
    auth: MatrixAuth,
    operators: &[&str],
    invite_allowlist: Vec<String>,
) -> (App, anyhow::Result<Running>) {
    // HERALD_TEST_LOG=herald=debug shows what the bot did.
    let filter = std::env::var("HERALD_TEST_LOG").unwrap_or_else(|_| "off".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_test_writer()
        .try_init();
    let cfg = MatrixConfig {
        homeserver: syn.url.clone(),
        user: bot.id.clone(),
        auth,
        prefix: "!herald".into(),
        invite_allowlist,
        manager_level: 25,
        store_passphrase: None,
    };
    let ops: Vec<(String, String)> =
        operators.iter().map(|u| ("matrix".to_string(), u.to_string())).collect();
    let app = app(dir, clock, move |c| {
        c.matrix = Some(cfg);
        c.community.operators.extend(ops);
    })
    .await;
    let running = start(&app, sink(), false).await;
    (app, running)
}

struct World {
    dir: tempfile::TempDir,
    clock: ManualClock,
    site: Site,
    app: App,
    running: Running,
    bot: User,
    owner: User,
    room: String,
}

impl World {
    /// herald, and a room made by `owner` (with `create` merged into the request) that
    /// herald was invited to and joined.
    async fn new(syn: &Synapse, test: &str, create: Value, operators: &[&str]) -> World {
        let bot = syn.register(&name(&format!("{test}bot"))).await;
        let owner = syn.register(&name(&format!("{test}owner"))).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = ManualClock::new(T0);
        let (app, running) = herald(dir.path(), &clock, syn, &bot, operators).await;
        let room = owner.create_room(create).await;
        owner.invite(&room, &bot.id).await;
        owner.wait_joined(&room, &bot.id).await;
        let site = Site::start().await;
        World { dir, clock, site, app, running, bot, owner, room }
    }

    /// `who` runs `!herald text`; returns herald's answer.
    async fn cmd(&self, who: &User, text: &str) -> Value {
        let id = who.say(&self.room, &format!("!herald {text}")).await;
        who.reply_to(&self.room, &id).await
    }

    /// A command that must not fail; returns the answer's plain body.
    async fn ok(&self, who: &User, text: &str) -> String {
        let reply = self.cmd(who, text).await;
        let body = body(&reply);
        assert!(!body.starts_with('✗'), "`{text}` failed: {body}");
        body
    }

    /// Serves a feed at `path` with one old item, and adds it through the room.
    async fn add_feed(&self, path: &str) {
        self.publish(path, &[("old", "An old story", "http://example.invalid/old")]);
        self.ok(&self.owner, &format!("feeds add {}", self.site.url(path))).await;
    }

    fn publish(&self, path: &str, items: &[(&str, &str, &str)]) {
        let items: Vec<(&str, &str, &str, &str)> = items
            .iter()
            .map(|(g, t, l)| {
                (*g, *t, *l, "The harbour reopened on Monday after repairs. Ships queued.")
            })
            .collect();
        self.site.feed(path, "application/rss+xml", &rss("Eurasia", &items));
    }

    async fn poll_later(&self) -> herald::ingest::PollReport {
        self.clock.advance(20 * MIN);
        self.app.poller.poll_due(16).await.expect("poll")
    }

    async fn channel(&self) -> herald::store::ChannelRow {
        self.app
            .store
            .channel_by_external("matrix", &self.room)
            .await
            .expect("read")
            .expect("the room's channel exists")
    }

    /// herald's notices in the room whose body contains `needle`.
    async fn posts(&self, needle: &str) -> Vec<Value> {
        self.owner
            .messages(&self.room)
            .await
            .into_iter()
            .filter(|e| e["sender"] == self.bot.id.as_str() && body(e).contains(needle))
            .collect()
    }
}

fn body(e: &Value) -> String {
    e["content"]["body"].as_str().unwrap_or_default().to_string()
}

fn refused(reply: &Value) -> bool {
    body(reply).contains("needs the")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_commands_by_power_level_kick_and_rejoin() {
    let Some(syn) = synapse::shared() else { return };
    let op = syn.register(&name("op")).await;
    let w = World::new(syn, "pl", json!({}), &[&op.id]).await;
    let manager = syn.register(&name("mgr")).await;
    let member = syn.register(&name("member")).await;
    for u in [&manager, &member, &op] {
        w.owner.invite(&w.room, &u.id).await;
        u.join(&w.room).await;
    }
    w.owner.set_power(&w.room, &manager.id, 25).await;

    // The shape of an answer: a notice with HTML, replying to the command, pinging no one.
    let id = member.say(&w.room, "!herald").await;
    let help = member.reply_to(&w.room, &id).await;
    assert_eq!(help["content"]["msgtype"], "m.notice");
    assert_eq!(help["content"]["format"], "org.matrix.custom.html");
    assert_eq!(help["content"]["m.mentions"], json!({}));
    assert!(body(&help).contains("search"), "{help}");
    assert!(help["content"]["formatted_body"].as_str().is_some_and(|h| h.contains("<p>")));

    w.add_feed("/feed.xml").await;
    let everyone = ["help subscribe", "search harbour", "latest", "article 1"];
    let managers = [
        "subscriptions",
        "subscribe 1",
        "unsubscribe 1",
        "digest schedule daily 08:00 UTC",
        "digest preview",
        "digest now",
    ];
    let admins = [
        "feeds list",
        "feeds export",
        "feeds pause 1",
        "feeds resume 1",
        "feeds remove 99",
        "feeds add http://127.0.0.1:9/none.xml",
        "feeds import http://127.0.0.1:9/none.opml",
    ];
    let cases: [(&User, [bool; 3]); 4] = [
        (&member, [true, false, false]),
        (&manager, [true, true, false]),
        (&w.owner, [true, true, true]),
        (&op, [true, true, true]), // power level 0, but an operator
    ];
    // Everyone's commands go out at once; then each answer is checked.
    let mut sent = Vec::new();
    for (user, allowed) in cases {
        for (commands, allowed) in
            [(&everyone[..], allowed[0]), (&managers[..], allowed[1]), (&admins[..], allowed[2])]
        {
            for c in commands {
                sent.push((user, *c, allowed, user.say(&w.room, &format!("!herald {c}")).await));
            }
        }
    }
    for (user, c, allowed, id) in sent {
        let reply = user.reply_to(&w.room, &id).await;
        assert_eq!(!refused(&reply), allowed, "{} running `{c}`: {}", user.id, body(&reply));
    }
    // A malformed command says what was wrong.
    let bad = w.cmd(&member, "frobnicate").await;
    assert!(body(&bad).contains("unknown command"), "{bad}");
    // Someone else's prefix is not ours.
    member.say(&w.room, "!heraldry is a hobby").await;

    // A kick pauses the room's posts; a new invite resumes them.
    assert_eq!(w.channel().await.paused_reason, None);
    w.owner.kick(&w.room, &w.bot.id).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while w.channel().await.paused_reason.is_none() {
        assert!(Instant::now() < deadline, "the kick did not pause the channel");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reason = w.channel().await.paused_reason.expect("paused");
    assert!(reason.contains("removed") && reason.contains(&w.owner.id), "{reason}");
    w.owner.invite(&w.room, &w.bot.id).await;
    w.owner.wait_joined(&w.room, &w.bot.id).await;
    while w.channel().await.paused_reason.is_some() {
        assert!(Instant::now() < deadline, "joining again did not resume the channel");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invites_are_joined_only_from_the_allowlist() {
    let Some(syn) = synapse::shared() else { return };
    let bot = syn.register(&name("allowbot")).await;
    let friend = syn.register(&name("friend")).await;
    let stranger = syn.register(&name("stranger")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let allow = vec![friend.id.clone()];
    let (_app, running) = herald_with(dir.path(), &clock, syn, &bot, &[], allow).await;
    let theirs = stranger.create_room(json!({"invite": [bot.id]})).await;
    let ours = friend.create_room(json!({"invite": [bot.id]})).await;
    friend.wait_joined(&ours, &bot.id).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while stranger.membership(&theirs, &bot.id).await != "leave" {
        assert!(Instant::now() < deadline, "the stranger's invite was not declined");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_logs_in_and_a_refused_one_is_a_clear_error() {
    let Some(syn) = synapse::shared() else { return };
    let bot = syn.register(&name("tokenbot")).await;
    let owner = syn.register(&name("tokenowner")).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let wrong = MatrixAuth::AccessToken("syt_not_a_real_token".into());
    let (_app, bad) = herald_as(dir.path(), &clock, syn, &bot, wrong, &[], Vec::new()).await;
    let err = bad.err().expect("a refused token stops start-up").to_string();
    assert!(err.contains("MATRIX_ACCESS_TOKEN") && err.contains("refused"), "{err}");

    // The token registration issued carries a device, as a token from a login does.
    let dir = tempfile::tempdir().expect("tempdir");
    let auth = MatrixAuth::AccessToken(bot.token.clone());
    let (_app, running) = herald_as(dir.path(), &clock, syn, &bot, auth, &[], Vec::new()).await;
    let running = running.expect("herald starts with an access token");
    running.adapter::<MatrixBot>().expect("matrix bot").wait_synced().await;
    let room = owner.create_room(json!({"invite": [bot.id]})).await;
    owner.wait_joined(&room, &bot.id).await;
    let id = owner.say(&room, "!herald feeds list").await;
    let reply = owner.reply_to(&room, &id).await;
    assert!(!refused(&reply) && !body(&reply).starts_with('✗'), "{reply}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creators_of_v12_rooms_are_admins() {
    let Some(syn) = synapse::shared() else { return };
    let w = World::new(syn, "v12", json!({"room_version": "12"}), &[]).await;
    let reply = w.cmd(&w.owner, "feeds list").await;
    assert!(!refused(&reply), "{reply}");
    // A command in a thread is answered in that thread.
    let root = w.owner.say(&w.room, "a thread about feeds").await;
    let id = w
        .owner
        .send(
            &w.room,
            json!({"msgtype": "m.text", "body": "!herald help",
                   "m.relates_to": {"rel_type": "m.thread", "event_id": root}}),
        )
        .await;
    let reply = w.owner.reply_to(&w.room, &id).await;
    assert_eq!(reply["content"]["m.relates_to"]["rel_type"], "m.thread", "{reply}");
    assert_eq!(reply["content"]["m.relates_to"]["event_id"], root.as_str());
    w.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn articles_and_digests_are_html_notices_with_feed_text_escaped() {
    let Some(syn) = synapse::shared() else { return };
    let w = World::new(syn, "post", json!({}), &[]).await;
    w.add_feed("/feed.xml").await;
    w.ok(&w.owner, "subscribe 1").await;
    assert_eq!(w.app.poller.poll_due(16).await.expect("poll").new_articles.len(), 0);

    let link = w.site.url("/harbour");
    // Escaped twice in the XML, so the title herald stores holds markup as text.
    let title = "Harbour &amp;lt;b&amp;gt;reopens&amp;lt;/b&amp;gt; @room &amp;lt;img src=x onerror=alert(1)&amp;gt;";
    w.publish("/feed.xml", &[("new", title, &link), ("old", "An old story", "http://x.invalid/")]);
    let new = w.poll_later().await.new_articles;
    assert_eq!(new.len(), 1);
    let stored = w.app.store.article(new[0]).await.expect("read").expect("article");
    let summary = stored.summary.clone();
    let stored = stored.title.expect("title");
    assert!(stored.contains("<b>reopens</b>") && stored.contains("<img"), "{stored}");
    let report = w.running.dispatcher.run_once().await.expect("dispatch");
    assert_eq!(report.sent, 1, "{report:?}");
    let posts = w.posts("Harbour").await;
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let c = &posts[0]["content"];
    assert_eq!(c["msgtype"], "m.notice");
    assert_eq!(c["format"], "org.matrix.custom.html");
    assert_eq!(c["m.mentions"], json!({}));
    let html = c["formatted_body"].as_str().expect("html");
    assert!(html.contains("Harbour &lt;b&gt;reopens&lt;/b&gt;"), "{html}");
    assert!(!html.contains("<img") && !html.contains("<b>reopens"), "{html}");
    assert!(html.contains(&format!("<a href=\"{link}\">")), "{html}");
    assert!(html.contains(&summary), "the summary: {html}");
    let plain = body(&posts[0]);
    assert!(plain.contains("Harbour <b>reopens</b>") && plain.contains(&link), "{plain}");
    assert!(plain.contains("@\u{2060}room"), "{plain}");
    for b in [plain.as_str(), html] {
        assert!(!b.contains("@room"), "no room mention: {b}");
    }

    // A digest of a second feed at its scheduled time, not before.
    w.add_feed("/digest.xml").await;
    w.ok(&w.owner, "subscribe 2 digest").await;
    w.ok(&w.owner, "digest schedule daily 09:00 UTC").await;
    w.app.poller.poll_due(16).await.expect("poll");
    w.publish(
        "/digest.xml",
        &[("d1", "Ceasefire talks resume", &w.site.url("/talks")), ("old", "An old story", "")],
    );
    assert_eq!(w.poll_later().await.new_articles.len(), 1);
    let early = w.running.dispatcher.run_once().await.expect("dispatch");
    assert_eq!(early.digests_sent, 0);
    let next_9 = T0 + 24 * 3600; // T0 is 09:00 UTC
    w.clock.set(next_9 + 1);
    let report = w.running.dispatcher.run_once().await.expect("dispatch");
    assert_eq!(report.digests_sent, 1, "{report:?}");
    let digest = w.posts("Ceasefire talks resume").await;
    assert_eq!(digest.len(), 1, "{digest:#?}");
    let html = digest[0]["content"]["formatted_body"].as_str().expect("html");
    assert!(html.contains("<li>") && html.contains("Ceasefire talks resume"), "{html}");
    w.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_room_commands_and_posts_are_readable_by_the_user() {
    use matrix_sdk::config::SyncSettings;
    use matrix_sdk::ruma::events::room::message::{
        OriginalSyncRoomMessageEvent, Relation, RoomMessageEventContent,
    };

    let Some(syn) = synapse::shared() else { return };
    let bot = syn.register(&name("e2ebot")).await;
    let user = syn.register(&name("e2euser")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let (app, running) = herald(dir.path(), &clock, syn, &bot, &[]).await;

    // The user's own client, with its own crypto store.
    let udir = tempfile::tempdir().expect("tempdir");
    let client = matrix_sdk::Client::builder()
        .homeserver_url(&syn.url)
        .sqlite_store(udir.path(), None)
        .build()
        .await
        .expect("client");
    client
        .matrix_auth()
        .login_username(user.localpart(), &user.password)
        .send()
        .await
        .expect("login");
    type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;
    let seen: Seen = Arc::default();
    let s = seen.clone();
    client.add_event_handler(move |ev: OriginalSyncRoomMessageEvent| {
        let s = s.clone();
        async move {
            let reply_to = match &ev.content.relates_to {
                Some(Relation::Reply(r)) => Some(r.in_reply_to.event_id.to_string()),
                _ => None,
            };
            s.lock().expect("seen").push((
                ev.sender.to_string(),
                ev.content.body().to_string(),
                reply_to,
            ));
        }
    });
    client.sync_once(SyncSettings::default()).await.expect("first sync");
    let c = client.clone();
    let sync = tokio::spawn(async move {
        let _ = c.sync(SyncSettings::default().timeout(Duration::from_secs(5))).await;
    });

    let room_id = user
        .create_room(json!({
            "initial_state": [{"type": "m.room.encryption", "state_key": "",
                               "content": {"algorithm": "m.megolm.v1.aes-sha2"}}],
            "invite": [bot.id],
        }))
        .await;
    user.wait_joined(&room_id, &bot.id).await;
    let rid = matrix_sdk::ruma::RoomId::parse(&room_id).expect("room id");
    let deadline = Instant::now() + Duration::from_secs(20);
    let room = loop {
        if let Some(r) = client.get_room(&rid)
            && r.state() == matrix_sdk::RoomState::Joined
        {
            break r;
        }
        assert!(Instant::now() < deadline, "the user's client never saw herald join");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(room.latest_encryption_state().await.expect("state").is_encrypted());

    let site = Site::start().await;
    site.feed(
        "/feed.xml",
        "application/rss+xml",
        &rss("Eurasia", &[("old", "An old story", "http://x.invalid/", "Old.")]),
    );
    let wait_reply = |event_id: String| {
        let seen = seen.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(b) = seen
                    .lock()
                    .expect("seen")
                    .iter()
                    .find(|(_, _, r)| r.as_deref() == Some(event_id.as_str()))
                    .map(|(_, b, _)| b.clone())
                {
                    return b;
                }
                assert!(Instant::now() < deadline, "no decryptable reply to {event_id}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    for text in
        [format!("!herald feeds add {}", site.url("/feed.xml")), "!herald subscribe 1".into()]
    {
        let sent =
            room.send(RoomMessageEventContent::text_plain(text.clone())).await.expect("send");
        let answer = wait_reply(sent.response.event_id.to_string()).await;
        assert!(!answer.starts_with('✗'), "`{text}`: {answer}");
    }
    // On the server, herald's answers are encrypted.
    let raw = user.messages(&room_id).await;
    assert!(
        raw.iter()
            .filter(|e| e["sender"] == bot.id.as_str())
            .all(|e| e["type"] == "m.room.encrypted")
    );

    app.poller.poll_due(16).await.expect("poll");
    site.feed(
        "/feed.xml",
        "application/rss+xml",
        &rss(
            "Eurasia",
            &[
                ("new", "Secret harbour news", &site.url("/h"), "The harbour reopened on Monday."),
                ("old", "An old story", "http://x.invalid/", "Old."),
            ],
        ),
    );
    clock.advance(20 * MIN);
    assert_eq!(app.poller.poll_due(16).await.expect("poll").new_articles.len(), 1);
    assert_eq!(running.dispatcher.run_once().await.expect("dispatch").sent, 1);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen
        .lock()
        .expect("seen")
        .iter()
        .any(|(s, b, _)| *s == bot.id && b.contains("Secret harbour news"))
    {
        assert!(Instant::now() < deadline, "the post was not decryptable by the user");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sync.abort();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn herald_restarted_mid_delivery_posts_once() {
    let Some(syn) = synapse::shared() else { return };
    let w = World::new(syn, "restart", json!({}), &[]).await;
    w.add_feed("/feed.xml").await;
    w.ok(&w.owner, "subscribe 1").await;
    w.app.poller.poll_due(16).await.expect("poll");
    w.publish(
        "/feed.xml",
        &[("n", "Only once please", &w.site.url("/n")), ("old", "An old story", "")],
    );
    assert_eq!(w.poll_later().await.new_articles.len(), 1);

    // herald sends, then dies before recording it: the row stays claimed, not sent.
    let jobs = w.app.store.claim_due_deliveries(w.clock.now(), 120, 10).await.expect("claim");
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    let platform = w.running.adapter::<MatrixBot>().expect("bot").platform();
    let reply = herald::deliver::post::article_post(job);
    platform.send(&job.external_id, &reply, &job.idem_key).await.expect("first send");
    let session =
        std::fs::read_to_string(w.dir.path().join("matrix/session.json")).expect("session");
    let World { dir, clock, site: _site, app, running, bot, owner, room } = w;
    running.stop().await;
    app.store.close().await;
    drop(app);

    // A new process on the same data: same device, same key, the lease runs out, resend.
    let (app, running) = herald(dir.path(), &clock, syn, &bot, &[]).await;
    let again = std::fs::read_to_string(dir.path().join("matrix/session.json")).expect("session");
    assert_eq!(session, again, "the same device after a restart");
    clock.advance(121);
    let report = running.dispatcher.run_once().await.expect("dispatch");
    assert_eq!(report.sent, 1, "{report:?}");
    let posts: Vec<Value> = owner
        .messages(&room)
        .await
        .into_iter()
        .filter(|e| body(e).contains("Only once please"))
        .collect();
    assert_eq!(posts.len(), 1, "posted twice: {posts:#?}");
    running.stop().await;
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synapse_restart_loses_nothing() {
    let Some(syn) = synapse::own() else { return };
    let w = World::new(&syn, "down", json!({}), &[]).await;
    w.add_feed("/feed.xml").await;
    w.ok(&w.owner, "subscribe 1").await;
    w.app.poller.poll_due(16).await.expect("poll");

    syn.stop();
    w.publish(
        "/feed.xml",
        &[("n", "Posted after the outage", &w.site.url("/n")), ("old", "An old story", "")],
    );
    assert_eq!(w.poll_later().await.new_articles.len(), 1);
    let down = w.running.dispatcher.run_once().await.expect("dispatch");
    assert_eq!((down.sent, down.retried), (0, 1), "{down:?}");

    syn.start_again();
    let mut sent = 0;
    for _ in 0..20 {
        w.clock.advance(10 * MIN);
        sent += w.running.dispatcher.run_once().await.expect("dispatch").sent;
        if sent > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(sent, 1);
    assert_eq!(w.posts("Posted after the outage").await.len(), 1);
    // The sync loop came back too: commands are answered.
    w.ok(&w.owner, "subscriptions").await;
    w.running.stop().await;
}

/// `cargo test --release --test it -- --ignored --nocapture matrix::bench`: resident memory
/// of a `herald run` process connected to Synapse and idle, and article-stored-to-post
/// latency through the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_matrix_memory_and_latency() {
    let Some(syn) = synapse::shared() else { return };

    // Memory: a real process, joined to a room, idle.
    let bot = syn.register(&name("benchbot")).await;
    let owner = syn.register(&name("benchowner")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("run")
        .env("HERALD_DATA_DIR", dir.path())
        .env("MATRIX_HOMESERVER", &syn.url)
        .env("MATRIX_USER", &bot.id)
        .env("MATRIX_PASSWORD", &bot.password)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("herald run");
    let room = owner.create_room(json!({"invite": [bot.id]})).await;
    owner.wait_joined(&room, &bot.id).await;
    let id = owner.say(&room, "!herald help").await;
    owner.reply_to(&room, &id).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).expect("status");
    let rss = status.lines().find(|l| l.starts_with("VmRSS")).unwrap_or("?").to_string();
    let hwm = status.lines().find(|l| l.starts_with("VmHWM")).unwrap_or("?").to_string();
    let store: u64 = walk_size(&dir.path().join("matrix"));
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "herald run, Matrix connected and idle: {rss}, peak {hwm}; matrix store on disk {} KB",
        store / 1024
    );

    // Latency: article stored (with its delivery row) → the post is on the homeserver.
    let w = World::new(syn, "benchlat", json!({}), &[]).await;
    w.add_feed("/feed.xml").await;
    w.ok(&w.owner, "subscribe 1").await;
    w.app.poller.poll_due(16).await.expect("poll");
    let channel = w.channel().await.id;
    let feed =
        w.app.store.community_feeds(channel_community(&w).await).await.expect("feeds")[0].feed.id;
    let mut times = Vec::new();
    for i in 0..30 {
        let a = herald::store::NewArticle {
            feed_id: feed,
            item_key: format!("bench-{i}"),
            url: Some(format!("https://example.org/{i}")),
            title: Some(format!("Bench article {i}")),
            author: None,
            published_at: None,
            fetched_at: w.clock.now(),
            text: "Text.".into(),
            summary: "The harbour reopened on Monday after repairs.".into(),
            lang: None,
            image_url: None,
            text_source: "feed",
            backfill: false,
            categories: Vec::new(),
        };
        let t = Instant::now();
        w.app
            .store
            .insert_article_with_deliveries(&a, &[channel], w.clock.now())
            .await
            .expect("insert");
        let r = w.running.dispatcher.run_once().await.expect("dispatch");
        times.push(t.elapsed());
        assert_eq!(r.sent, 1);
    }
    times.sort();
    println!(
        "article stored → posted (30 posts): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        times[15].as_secs_f64() * 1e3,
        times[28].as_secs_f64() * 1e3,
        times[29].as_secs_f64() * 1e3
    );
    w.running.stop().await;
}

async fn channel_community(w: &World) -> i64 {
    w.channel().await.community_id
}

fn walk_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| {
                    let m = e.metadata().ok();
                    if m.as_ref().is_some_and(|m| m.is_dir()) {
                        walk_size(&e.path())
                    } else {
                        m.map_or(0, |m| m.len())
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Stores articles for the room's channel straight into the outbox (as the poller
/// does), published at the given times, in the order given.
async fn enqueue(w: &World, items: &[(String, Option<i64>)]) {
    let channel = w.channel().await.id;
    let feed =
        w.app.store.community_feeds(channel_community(w).await).await.expect("feeds")[0].feed.id;
    for (title, published) in items {
        let a = herald::store::NewArticle {
            feed_id: feed,
            item_key: title.clone(),
            url: Some(format!("https://example.org/{}", title.replace(' ', "-"))),
            title: Some(title.clone()),
            published_at: *published,
            fetched_at: w.clock.now(),
            text: "Text.".into(),
            summary: "The harbour reopened on Monday after repairs.".into(),
            text_source: "feed",
            ..Default::default()
        };
        w.app
            .store
            .insert_article_with_deliveries(&a, &[channel], w.clock.now())
            .await
            .expect("insert");
    }
}

/// The titles of herald's posts in the room whose title starts with `prefix`, oldest first.
async fn post_titles(w: &World, prefix: &str) -> Vec<String> {
    w.owner
        .messages(&w.room)
        .await
        .into_iter()
        .filter(|e| e["sender"] == w.bot.id.as_str())
        .filter_map(|e| body(&e).lines().next().map(str::to_string))
        .filter_map(|first| {
            // The first line is the title, then its link: "Title <https://…>".
            let title = first.split(" <").next().unwrap_or_default();
            title.find(prefix).map(|i| title[i..].trim().to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_arrives_oldest_first_under_default_rate_limits() {
    let Some(syn) = synapse::own_with_default_limits() else { return };
    let w = World::new(&syn, "burst", json!({}), &[]).await;
    w.add_feed("/feed.xml").await;
    w.ok(&w.owner, "subscribe 1").await;
    w.app.poller.poll_due(16).await.expect("poll");
    // 25 items as the feed lists them, newest first (so stored newest first).
    let now = w.clock.now();
    let items: Vec<(String, Option<i64>)> =
        (0..25).rev().map(|i| (format!("Burst item {i:02}"), Some(now - 3600 + i * 60))).collect();
    enqueue(&w, &items).await;

    // Synapse allows 10 messages at once, then one every 5 s: herald waits out each 429
    // (the manual clock follows the real one here) and keeps the order.
    let started = Instant::now();
    let mut limited = 0;
    loop {
        let r = w.running.dispatcher.run_once().await.expect("dispatch");
        limited += r.retried;
        if w.app.store.delivery_counts().await.expect("counts") == [("sent".to_string(), 25)] {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(240), "the burst did not get through");
        tokio::time::sleep(Duration::from_secs(1)).await;
        w.clock.advance(1);
    }
    assert!(limited > 0, "Synapse's default limits were hit");
    let want: Vec<String> = (0..25).map(|i| format!("Burst item {i:02}")).collect();
    assert_eq!(post_titles(&w, "Burst item").await, want, "oldest first, each once");
    w.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_six_hour_outage_every_owed_post_arrives_within_a_minute() {
    let Some(syn) = synapse::own_with_default_limits() else { return };
    let w = World::new(&syn, "outage6h", json!({}), &[]).await;
    w.add_feed("/feed.xml").await;
    w.ok(&w.owner, "subscribe 1").await;
    w.app.poller.poll_due(16).await.expect("poll");

    syn.stop();
    let start = w.clock.now();
    let mut n = 0;
    while w.clock.now() < start + 6 * HOUR {
        if (w.clock.now() - start) % HOUR == 0 {
            enqueue(&w, &[(format!("Outage item {n}"), Some(w.clock.now() - 30))]).await;
            n += 1;
        }
        w.running.dispatcher.run_once().await.expect("dispatch");
        w.clock.advance(MIN);
    }
    assert_eq!(w.app.store.delivery_counts().await.expect("counts"), [("pending".to_string(), n)]);

    syn.start_again();
    let back = w.clock.now();
    loop {
        w.running.dispatcher.run_once().await.expect("dispatch");
        if w.app.store.delivery_counts().await.expect("counts") == [("sent".to_string(), n)] {
            break;
        }
        assert!(w.clock.now() - back <= MIN, "not every owed post within a minute");
        tokio::time::sleep(Duration::from_millis(500)).await;
        w.clock.advance(5);
    }
    let want: Vec<String> = (0..n).map(|i| format!("Outage item {i}")).collect();
    assert_eq!(post_titles(&w, "Outage item").await, want, "every post, in order, once");
    w.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_where_herald_may_not_send_is_refused() {
    let Some(syn) = synapse::shared() else { return };
    let w = World::new(syn, "mute", json!({}), &[]).await;
    w.add_feed("/feed.xml").await;
    // Messages need power level 10 here; herald has the default 0.
    w.owner.set_event_level(&w.room, "m.room.message", 10).await;
    // herald cannot answer here either (an answer is a message too): the refusal only
    // shows in its log. What matters is that no undeliverable subscription is made.
    w.owner.say(&w.room, "!herald subscribe 1").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    w.owner.set_event_level(&w.room, "m.room.message", 0).await;
    let subs = w.ok(&w.owner, "subscriptions").await;
    assert!(subs.contains("None yet"), "{subs}");
    assert!(
        w.app.store.channel_subscriptions(w.channel().await.id).await.expect("subs").is_empty()
    );
    // With the level back, the same command subscribes.
    let ok = w.ok(&w.owner, "subscribe 1").await;
    assert!(ok.contains("Subscribed"), "{ok}");
    w.running.stop().await;
}

/// The key id (`ed25519:…`) of `user`'s cross-signing key of `kind` (`master_keys`,
/// `self_signing_keys`) in a `/keys/query` answer.
fn signing_key_id(keys: &Value, kind: &str, user: &str) -> Option<String> {
    keys[kind][user]["keys"].as_object()?.keys().next().cloned()
}

/// The chain a client checks before it shows a device as verified: the account's master
/// key signs its self-signing key, which signs the device.
fn device_cross_signed(keys: &Value, user: &str, device: &str) -> Option<String> {
    let master = signing_key_id(keys, "master_keys", user)?;
    let ssk = signing_key_id(keys, "self_signing_keys", user)?;
    keys["self_signing_keys"][user]["signatures"][user][&master].as_str()?;
    keys["device_keys"][user][device]["signatures"][user][&ssk].as_str()?;
    Some(master)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn herald_cross_signs_its_device_once_and_keeps_its_identity_across_restarts() {
    let Some(syn) = synapse::shared() else { return };
    let w = World::new(syn, "xsign", json!({}), &[]).await;
    let client = w.running.adapter::<MatrixBot>().expect("bot").client().clone();
    let device = client.device_id().expect("logged in").to_string();

    // Anyone (here the room's owner) sees herald's device signed by its account.
    let deadline = Instant::now() + Duration::from_secs(60);
    let master = loop {
        let keys = w.owner.keys_query(&w.bot.id).await;
        if let Some(master) = device_cross_signed(&keys, &w.bot.id, &device) {
            break master;
        }
        assert!(Instant::now() < deadline, "herald's device was never cross-signed: {keys:#}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // herald holds the signing keys and set up recovery (secret storage and key backup).
    let deadline = Instant::now() + Duration::from_secs(30);
    let encryption = client.encryption();
    while encryption.recovery().state() != matrix_sdk::encryption::recovery::RecoveryState::Enabled
    {
        assert!(Instant::now() < deadline, "recovery was never enabled");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(encryption.cross_signing_status().await.is_some_and(|s| s.has_self_signing));

    // A restart is the same device under the same identity: nothing is made anew.
    let World { dir, clock, site: _site, app: _app, running, bot, owner, room: _room } = w;
    running.stop().await;
    let (_app, running) = herald(dir.path(), &clock, syn, &bot, &[]).await;
    let again = running.adapter::<MatrixBot>().expect("bot").client().clone();
    assert_eq!(again.device_id().map(|d| d.to_string()), Some(device.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let keys = owner.keys_query(&bot.id).await;
    assert_eq!(device_cross_signed(&keys, &bot.id, &device), Some(master), "{keys:#}");
    running.stop().await;
}

/// herald's answers in the room to the event `id`.
async fn answers_to(w: &World, id: &str) -> Vec<Value> {
    w.owner
        .messages(&w.room)
        .await
        .into_iter()
        .filter(|e| {
            e["sender"] == w.bot.id.as_str()
                && e["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == id
        })
        .collect()
}

/// An edit of `original` to `text`, as Element sends it.
fn edit(original: &str, text: &str) -> Value {
    json!({
        "msgtype": "m.text",
        "body": format!("* {text}"),
        "m.new_content": {"msgtype": "m.text", "body": text},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capitalised_prefixes_mentions_and_edits_are_commands_answered_once() {
    let Some(syn) = synapse::shared() else { return };
    let w = World::new(syn, "addr", json!({}), &[]).await;
    let localpart = w.bot.localpart().to_string();

    // A phone capitalises the prefix.
    let id = w.owner.say(&w.room, "!Herald help").await;
    assert!(body(&w.owner.reply_to(&w.room, &id).await).contains("search"));
    // herald's name, and a pill (its text is a display name; `m.mentions` names herald).
    let id = w.owner.say(&w.room, &format!("{localpart}: latest")).await;
    let latest = body(&w.owner.reply_to(&w.room, &id).await);
    assert!(latest.contains("Nothing stored yet"), "{latest}");
    let pill = json!({
        "msgtype": "m.text",
        "body": "The News Bot: help",
        "format": "org.matrix.custom.html",
        "formatted_body": format!(
            "<a href=\"https://matrix.to/#/{}\">The News Bot</a>: help", w.bot.id
        ),
        "m.mentions": {"user_ids": [w.bot.id]},
    });
    let id = w.owner.send(&w.room, pill).await;
    assert!(body(&w.owner.reply_to(&w.room, &id).await).contains("search"));

    // A message edited into a command is answered once, for its latest text.
    let plain = w.owner.say(&w.room, "what is new?").await;
    w.owner.send(&w.room, edit(&plain, "!herald help")).await;
    w.owner.send(&w.room, edit(&plain, "!herald latest")).await;
    let answer = w.owner.reply_to(&w.room, &plain).await;
    assert!(
        body(&answer).contains("Nothing stored yet"),
        "the latest text is answered: {answer:#}"
    );
    // A command edited after its answer is not answered again, nor is a later edit.
    let cmd = w.owner.say(&w.room, "!herald latest").await;
    w.owner.reply_to(&w.room, &cmd).await;
    w.owner.send(&w.room, edit(&cmd, "!herald help")).await;
    w.owner.send(&w.room, edit(&plain, "!herald help")).await;
    // The edits settle for 1 s before an answer; give them well past that.
    let marker = w.owner.say(&w.room, "!herald latest 1").await;
    w.owner.reply_to(&w.room, &marker).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(answers_to(&w, &plain).await.len(), 1, "the edited message: one answer");
    assert_eq!(answers_to(&w, &cmd).await.len(), 1, "the edited command: one answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notifying_subscription_posts_m_text_with_its_template() {
    let Some(syn) = synapse::shared() else { return };
    let w = World::new(syn, "notify", json!({}), &[]).await;
    w.add_feed("/feed.xml").await;
    let ok = w
        .ok(&w.owner, "subscribe 1 --notify --style compact --template \"**{title}**\\n{link}\"")
        .await;
    assert!(ok.contains("notifying") && ok.contains("style compact"), "{ok}");
    assert_eq!(w.app.poller.poll_due(16).await.expect("poll").new_articles.len(), 0);
    let link = w.site.url("/harbour");
    w.publish(
        "/feed.xml",
        &[("new", "Harbour *reopens*", &link), ("old", "An old story", "http://x.invalid/")],
    );
    assert_eq!(w.poll_later().await.new_articles.len(), 1);
    assert_eq!(w.running.dispatcher.run_once().await.expect("dispatch").sent, 1);
    let posts = w.posts("Harbour").await;
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let c = &posts[0]["content"];
    assert_eq!(c["msgtype"], "m.text", "a notifying subscription posts m.text");
    let html = c["formatted_body"].as_str().expect("html");
    assert!(html.starts_with("<b>Harbour &#42;reopens&#42;</b><br><a href="), "{html}");
    assert_eq!(body(&posts[0]), format!("**Harbour *reopens***\n{link}"));

    // Back to notices: subscribing again with --notify=off.
    w.ok(&w.owner, "subscribe 1 --notify=off").await;
    w.publish("/feed.xml", &[("new2", "Harbour busy", &link), ("new", "Harbour *reopens*", &link)]);
    assert_eq!(w.poll_later().await.new_articles.len(), 1);
    w.running.dispatcher.run_once().await.expect("dispatch");
    let posts = w.posts("Harbour busy").await;
    assert_eq!(posts.len(), 1, "{posts:#?}");
    assert_eq!(posts[0]["content"]["msgtype"], "m.notice");
    w.running.stop().await;
}

/// Help, usage lines and hints name commands as they are typed in a room: behind the
/// prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_and_hints_are_written_with_the_prefix() {
    let Some(syn) = synapse::shared() else { return };
    let w = World::new(syn, "hints", json!({}), &[]).await;
    let html = |e: &Value| e["content"]["formatted_body"].as_str().unwrap_or_default().to_string();

    let id = w.owner.say(&w.room, "!herald help").await;
    let help = w.owner.reply_to(&w.room, &id).await;
    assert!(
        body(&help)
            .contains("`!herald search QUERY [--feed FEED] [--since 7d|YYYY-MM-DD] [--page N]`"),
        "{help:#}"
    );
    assert!(html(&help).contains("<code>!herald feeds add URL [INTERVAL]</code>"), "{help:#}");
    // A hint in a reply, and the usage line of a parse error.
    let id = w.owner.say(&w.room, "!herald feeds list").await;
    let empty = w.owner.reply_to(&w.room, &id).await;
    assert!(html(&empty).contains("<code>!herald feeds add URL</code>"), "{empty:#}");
    let id = w.owner.say(&w.room, "!herald search").await;
    let usage = w.owner.reply_to(&w.room, &id).await;
    assert!(body(&usage).contains("usage: `!herald search QUERY"), "{usage:#}");
    assert!(html(&usage).contains("<code>!herald search QUERY"), "{usage:#}");
    // The hint after adding a feed: the subscribe command as typed here.
    w.publish("/feed.xml", &[("old", "An old story", "http://example.invalid/old")]);
    let added = w.ok(&w.owner, &format!("feeds add {}", w.site.url("/feed.xml"))).await;
    assert!(added.contains("`!herald subscribe 1`"), "{added}");
}

/// Two processes share one database, each logged in as the bot (its own device): only
/// the holder of the sync lease syncs, answers and posts. When it stops, the other takes
/// over, answers the command sent while neither synced, and does not answer again what
/// the first one answered (its first sync replays the room's recent timeline).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_syncs_at_a_time_and_its_successor_answers_each_command_once() {
    let Some(syn) = synapse::shared() else { return };
    let bot = syn.register(&name("leadbot")).await;
    let owner = syn.register(&name("leadowner")).await;
    let clock = ManualClock::new(T0);
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let db = format!("sqlite://{}/shared.db", dir_a.path().display());
    let start_one = |dir: &Path| {
        let cfg = MatrixConfig {
            homeserver: syn.url.clone(),
            user: bot.id.clone(),
            auth: MatrixAuth::Password(bot.password.clone()),
            prefix: "!herald".into(),
            invite_allowlist: Vec::new(),
            manager_level: 25,
            store_passphrase: None,
        };
        let (dir, db, clock) = (dir.to_path_buf(), db.clone(), clock.clone());
        async move {
            let app = app(&dir, &clock, move |c| {
                c.matrix = Some(cfg);
                c.database_url = db;
                c.service.leader_ttl = Duration::from_secs(3);
            })
            .await;
            let running = start(&app, sink(), false).await.expect("herald starts");
            (app, running)
        }
    };
    let (app_a, run_a) = start_one(dir_a.path()).await;
    run_a.adapter::<MatrixBot>().expect("bot").wait_synced().await;
    let (app_b, run_b) = start_one(dir_b.path()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (a, b) =
        (run_a.adapter::<MatrixBot>().expect("a"), run_b.adapter::<MatrixBot>().expect("b"));
    assert!(a.is_leading() && !b.is_leading(), "the first to ask holds the lease");

    let room = owner.create_room(json!({})).await;
    owner.invite(&room, &bot.id).await;
    owner.wait_joined(&room, &bot.id).await;
    let first = owner.say(&room, "!herald help").await;
    owner.reply_to(&room, &first).await;

    // The leader stops (and gives the lease up); a command comes while nobody syncs.
    run_a.stop().await;
    app_a.store.close().await;
    let missed = owner.say(&room, "!herald feeds list").await;
    let answer = owner.reply_to(&room, &missed).await;
    assert!(!body(&answer).is_empty());
    let b = run_b.adapter::<MatrixBot>().expect("b");
    assert!(b.is_leading(), "the other process took over");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events = owner.messages(&room).await;
    for id in [&first, &missed] {
        let replies = events
            .iter()
            .filter(|e| e["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == id.as_str())
            .count();
        assert_eq!(replies, 1, "{id} answered once: {events:#?}");
    }
    run_b.stop().await;
    app_b.store.close().await;
}
