//! herald as a Discord bot, end to end: serenity talks to a protocol-faithful fake Discord
//! (REST under /api/v10 and a WebSocket gateway, `support::fake_discord`) on loopback.
//! herald is built in-process on a manual clock, with the Discord client started by
//! `run::start` exactly as `herald run` starts it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::fake_discord::{self, Answer, Fail, FakeDiscord, perms};
use crate::support::{Site, T0, app, rss};
use herald::app::App;
use herald::clock::{Clock, ManualClock};
use herald::config::DiscordConfig;
use herald::deliver::outbox::DispatchReport;
use herald::localserver::Response;
use herald::platform::discord::DiscordBot;
use herald::platform::terminal::Output;
use herald::run::{Running, start};
use herald::store::NewArticle;
use serde_json::{Value, json};

const GUILD: u64 = 700_000_000_000_000_010;
const CHAN: u64 = 700_000_000_000_000_011;
const CHAN2: u64 = 700_000_000_000_000_012;
const USER: u64 = 700_000_000_000_000_099;
const ADMIN: u64 = perms::MANAGE_GUILD;
const MANAGER: u64 = perms::MANAGE_CHANNELS;
const MEMBER: u64 = perms::NONE;

struct World {
    dir: tempfile::TempDir,
    clock: ManualClock,
    site: Site,
    fake: FakeDiscord,
    app: App,
    running: Option<Running>,
}

fn sink() -> Output {
    Arc::new(Mutex::new(Box::new(std::io::sink())))
}

async fn world() -> World {
    world_with(None).await
}

async fn world_with(dev_guild: Option<u64>) -> World {
    world_on(dev_guild, None).await
}

/// A world whose herald stores everything in a fresh PostgreSQL database (None when
/// PostgreSQL is skipped).
async fn world_on_postgres() -> Option<World> {
    let cluster = crate::support::postgres::shared()?;
    let w = world_on(None, Some(cluster.fresh_database().await)).await;
    assert_eq!(w.app.store.backend(), "postgres");
    Some(w)
}

async fn world_on(dev_guild: Option<u64>, database: Option<String>) -> World {
    if std::env::var("HERALD_TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,rustls=info,sqlx=warn,hyper=info")
            .try_init();
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new(T0);
    let site = Site::start().await;
    let fake = FakeDiscord::start(&[(GUILD, "News Guild", &[CHAN, CHAN2])]).await;
    let app = open_on(&dir, &clock, &fake, dev_guild, database).await;
    let running = start(&app, sink(), false).await.expect("herald starts");
    let w = World { dir, clock, site, fake, app, running: Some(running) };
    w.ready(1).await;
    w
}

async fn open(
    dir: &tempfile::TempDir,
    clock: &ManualClock,
    fake: &FakeDiscord,
    dev_guild: Option<u64>,
) -> App {
    open_on(dir, clock, fake, dev_guild, None).await
}

async fn open_on(
    dir: &tempfile::TempDir,
    clock: &ManualClock,
    fake: &FakeDiscord,
    dev_guild: Option<u64>,
    database: Option<String>,
) -> App {
    let base = fake.api_base();
    app(dir.path(), clock, |c| {
        if let Some(url) = database {
            c.database_url = url;
        }
        c.discord = Some(DiscordConfig {
            token: fake_discord::TOKEN.into(),
            dev_guild,
            api_base: Some(base),
            shards: Default::default(),
        });
        // The fake answers in milliseconds; tests of hung sends need not wait 30 s.
        c.delivery.send_timeout = Duration::from_secs(2);
    })
    .await
}

/// Options of a slash command: `(name, value)`; strings are type 3, integers type 4.
fn opts(pairs: &[(&str, Value)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(n, v)| {
                let kind = if v.is_i64() || v.is_u64() { 4 } else { 3 };
                json!({"name": n, "type": kind, "value": v})
            })
            .collect(),
    )
}

fn sub(name: &str, pairs: &[(&str, Value)]) -> Value {
    json!([{"name": name, "type": 1, "options": opts(pairs)}])
}

impl World {
    /// Waits until the bot has identified `n` times and registered its commands.
    async fn ready(&self, n: usize) {
        self.fake
            .wait_for("IDENTIFY and command registration", |f| {
                f.identifies() >= n
                    && (!f.global_commands().is_empty() || !f.guild_commands(GUILD).is_empty())
            })
            .await;
    }

    /// A slash command in CHAN from USER with `perms`; waits for herald's answer.
    async fn cmd(&self, perms: u64, name: &str, options: Value) -> Answer {
        self.cmd_in(CHAN, perms, name, options).await
    }

    async fn cmd_in(&self, channel: u64, perms: u64, name: &str, options: Value) -> Answer {
        let id = self.fake.interaction(2, GUILD, channel, USER, perms, name, options);
        self.fake.wait_answer(id).await
    }

    /// Publishes an RSS feed with `n` items about `topic` and adds it as an admin;
    /// returns the feed id. Its items are stored as history (searchable, not posted).
    async fn feed_with(&self, path: &str, title: &str, topic: &str, n: usize) -> i64 {
        let items: Vec<(String, String, String, String)> = (0..n)
            .map(|i| {
                (
                    format!("g{i}"),
                    format!("{topic} story {i}"),
                    self.site.url(&format!("/a/{i}")),
                    format!("A report about {topic}, number {i}. It has a second sentence."),
                )
            })
            .collect();
        let refs: Vec<(&str, &str, &str, &str)> = items
            .iter()
            .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
            .collect();
        self.site.feed(path, "application/rss+xml", &rss(title, &refs));
        let a = self.cmd(ADMIN, "feeds", sub("add", &[("url", json!(self.site.url(path)))])).await;
        assert!(a.text().contains("Added feed"), "{:?}", a.message());
        self.app.poller.poll_due(16).await.expect("poll");
        let feeds = self.app.store.community_feeds(self.community().await).await.expect("feeds");
        feeds.iter().find(|f| f.feed.url == self.site.url(path)).expect("added").feed.id
    }

    async fn community(&self) -> i64 {
        self.app
            .store
            .ensure_community("discord", &GUILD.to_string(), None, self.clock.now())
            .await
            .expect("community")
    }

    async fn channel_row(&self, channel: u64) -> herald::store::ChannelRow {
        self.app
            .store
            .channel_by_external("discord", &channel.to_string())
            .await
            .expect("read")
            .expect("channel exists")
    }

    /// Stores a new article of `feed` with a delivery to each of `channels`.
    async fn article(&self, feed: i64, key: &str, title: &str, channels: &[u64]) -> i64 {
        let mut ids = Vec::new();
        for c in channels {
            ids.push(self.channel_row(*c).await.id);
        }
        let now = self.clock.now();
        let a = NewArticle {
            feed_id: feed,
            item_key: key.into(),
            url: Some(format!("https://news.example/{key}")),
            title: Some(title.into()),
            author: None,
            // Seconds that are not zero, so the embed shows whether they were kept.
            published_at: Some(now - 53),
            fetched_at: now,
            text: "Body text.".into(),
            summary: "The **summary** of it, with [a link](https://evil.example) and @everyone."
                .into(),
            lang: Some("en".into()),
            image_url: Some("https://news.example/lead.jpg".into()),
            text_source: "page",
            backfill: false,
            categories: Vec::new(),
        };
        self.app
            .store
            .insert_article_with_deliveries(&a, &ids, now)
            .await
            .expect("insert")
            .expect("new")
            .article_id
    }

    /// Stores a new article published at `published` (None: undated) for `channels`.
    async fn article_at(
        &self,
        feed: i64,
        key: &str,
        title: &str,
        channels: &[u64],
        published: Option<i64>,
    ) -> i64 {
        let mut ids = Vec::new();
        for c in channels {
            ids.push(self.channel_row(*c).await.id);
        }
        let now = self.clock.now();
        let a = NewArticle {
            feed_id: feed,
            item_key: key.into(),
            url: Some(format!("https://news.example/{key}")),
            title: Some(title.into()),
            published_at: published,
            fetched_at: now,
            text: "Body text.".into(),
            summary: format!("About {title}."),
            text_source: "page",
            ..NewArticle::default()
        };
        let stored = self.app.store.insert_article_with_deliveries(&a, &ids, now).await;
        stored.expect("insert").expect("new").article_id
    }

    /// The titles of the article posts in `channel`, in the order they were created.
    fn post_titles(&self, channel: u64) -> Vec<String> {
        self.fake
            .messages(channel)
            .iter()
            .filter(|m| m.body["nonce"].as_str().is_some_and(is_post_key))
            .map(|m| m.body["embeds"][0]["title"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The notices posted in `channel`.
    fn notices(&self, channel: u64) -> Vec<String> {
        self.fake
            .messages(channel)
            .iter()
            .filter(|m| m.body["nonce"].as_str().is_some_and(|n| n.get(9..10) == Some("n")))
            .map(|m| fake_discord::embed_text(&m.body))
            .collect()
    }

    async fn dispatch(&self) -> DispatchReport {
        self.running.as_ref().expect("running").dispatcher.run_once().await.expect("dispatch")
    }

    async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}

/// Whether a nonce is an article post's (`h` + 8 hex digits of installation + `d`).
fn is_post_key(n: &str) -> bool {
    n.len() > 10 && n.starts_with('h') && n.get(9..10) == Some("d")
}

/// `allowed_mentions` that lets nothing ping: no parse types, no users, no roles.
fn no_mentions(v: &Value) -> bool {
    let empty = |k: &str| v[k].as_array().is_none_or(Vec::is_empty);
    v["parse"].as_array().is_some_and(Vec::is_empty) && empty("users") && empty("roles")
}

fn embeds(m: &Value) -> Vec<Value> {
    m["embeds"].as_array().cloned().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn fake_payloads_are_complete_for_serenity_models() {
    use serenity::all::{
        Command, Guild, GuildChannel, Interaction, Message, Ready, UnavailableGuild,
    };
    let fake = FakeDiscord::start(&[]).await;
    for (name, v) in fake.sample_payloads() {
        let ok = match name {
            "READY" => serde_json::from_value::<Ready>(v.clone()).map(|_| ()),
            "GUILD_CREATE" => serde_json::from_value::<Guild>(v.clone()).map(|_| ()),
            "GUILD_DELETE" => serde_json::from_value::<UnavailableGuild>(v.clone()).map(|_| ()),
            "CHANNEL_DELETE" | "FORUM" | "THREAD" => {
                serde_json::from_value::<GuildChannel>(v.clone()).map(|_| ())
            }
            "WEBHOOK" => serde_json::from_value::<serenity::all::Webhook>(v.clone()).map(|_| ()),
            _ => serde_json::from_value::<Message>(v.clone()).map(|_| ()),
        };
        ok.unwrap_or_else(|e| panic!("{name}: {e}\n{v:#}"));
    }
    for kind in [2u8, 3, 4] {
        let v = fake.sample_interaction(kind);
        let i: Interaction = serde_json::from_value(v.clone())
            .unwrap_or_else(|e| panic!("interaction {kind}: {e}\n{v:#}"));
        let expected = match kind {
            2 => matches!(i, Interaction::Command(_)),
            3 => matches!(i, Interaction::Component(_)),
            _ => matches!(i, Interaction::Autocomplete(_)),
        };
        assert!(expected, "kind {kind} became {i:?}");
    }
    // What the fake answers to a command registration is what serenity expects back.
    let defs =
        serde_json::to_value(herald::platform::discord::commands::definitions()).expect("json");
    let cmds: Vec<Value> = defs
        .as_array()
        .expect("array")
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut c = c.clone();
            c["id"] = json!((i + 1).to_string());
            c["application_id"] = json!(fake_discord::APP_ID.to_string());
            c["version"] = json!("1");
            c["type"] = json!(1);
            c
        })
        .collect();
    serde_json::from_value::<Vec<Command>>(Value::Array(cmds)).expect("commands deserialize");
}

#[tokio::test]
async fn registers_every_command_globally_with_default_permissions_and_guilds_intent_only() {
    let mut w = world().await;
    assert_eq!(w.fake.intents(), Some(1), "GUILDS only: no privileged intents");
    let cmds = w.fake.global_commands();
    let names: Vec<&str> = cmds.iter().filter_map(|c| c["name"].as_str()).collect();
    for n in [
        "feeds",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "digest",
        "search",
        "article",
        "latest",
        "help",
    ] {
        assert!(names.contains(&n), "/{n} registered: {names:?}");
    }
    let perm = |n: &str| {
        cmds.iter()
            .find(|c| c["name"] == n)
            .and_then(|c| c["default_member_permissions"].as_str().map(String::from))
    };
    assert_eq!(perm("feeds").as_deref(), Some("32"), "Manage Server");
    for n in ["subscribe", "unsubscribe", "subscriptions", "digest"] {
        assert_eq!(perm(n).as_deref(), Some("16"), "/{n}: Manage Channels");
    }
    assert_eq!(perm("search"), None, "everyone may search");
    // Options: descriptions, choices, limits and autocomplete.
    let feeds = cmds.iter().find(|c| c["name"] == "feeds").expect("feeds");
    let add = feeds["options"]
        .as_array()
        .expect("subs")
        .iter()
        .find(|o| o["name"] == "add")
        .expect("add");
    assert!(add["options"][1]["choices"].as_array().is_some_and(|c| c.len() > 3), "{add:#}");
    let search = cmds.iter().find(|c| c["name"] == "search").expect("search");
    assert_eq!(search["options"][0]["max_length"], 80);
    assert_eq!(search["options"][1]["autocomplete"], true);
    w.stop().await;
}

#[tokio::test]
async fn dev_guild_registers_commands_in_that_guild_only() {
    let mut w = world_with(Some(GUILD)).await;
    assert!(w.fake.global_commands().is_empty());
    assert_eq!(w.fake.guild_commands(GUILD).len(), 9);
    w.stop().await;
}

#[tokio::test]
async fn every_command_is_allowed_to_its_role_and_refused_below_it() {
    let mut w = world().await;
    // Refusals: members may not manage feeds or subscriptions, managers may not manage feeds.
    let refused = [
        (MEMBER, "feeds", sub("list", &[])),
        (MANAGER, "feeds", sub("add", &[("url", json!("https://example.com/feed"))])),
        (MEMBER, "subscribe", opts(&[("feed", json!("#1"))])),
        (MEMBER, "unsubscribe", opts(&[("feed", json!("#1"))])),
        (MEMBER, "subscriptions", json!([])),
        (MEMBER, "digest", sub("now", &[])),
        (MANAGER, "feeds", sub("export", &[])),
    ];
    for (p, name, o) in refused {
        let a = w.cmd(p, name, o).await;
        assert!(a.ephemeral(), "/{name}: refusals are private");
        assert!(a.text().contains("needs the"), "/{name} refused: {}", a.text());
    }
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 12).await;
    let f = json!(format!("#{feed}"));

    let list = w.cmd(ADMIN, "feeds", sub("list", &[])).await;
    assert!(list.text().contains("Asia Desk"), "{}", list.text());
    let pause = w.cmd(ADMIN, "feeds", sub("pause", &[("feed", f.clone())])).await;
    assert!(pause.text().contains("Paused"), "{}", pause.text());
    let resume = w.cmd(ADMIN, "feeds", sub("resume", &[("feed", f.clone())])).await;
    assert!(resume.text().contains("Resumed"), "{}", resume.text());
    let export = w.cmd(ADMIN, "feeds", sub("export", &[])).await;
    assert!(
        export.text().contains("<opml") && export.text().contains("feed.xml"),
        "{}",
        export.text()
    );
    let opml = format!(
        "<?xml version=\"1.0\"?><opml version=\"2.0\"><body><outline type=\"rss\" xmlUrl=\"{}\"/></body></opml>",
        w.site.url("/feed.xml")
    );
    let import = w.cmd(ADMIN, "feeds", sub("import", &[("source", json!(opml))])).await;
    assert!(import.text().contains("1 already followed"), "{}", import.text());

    // A channel manager (Manage Channels) runs the channel's commands.
    let s = w
        .cmd(
            MANAGER,
            "subscribe",
            opts(&[
                ("feed", f.clone()),
                ("mode", json!("digest")),
                ("include", json!("korea, seoul")),
            ]),
        )
        .await;
    assert!(s.ephemeral() && s.text().contains("Subscribed"), "{}", s.text());
    let subs = w.cmd(MANAGER, "subscriptions", json!([])).await;
    assert!(
        subs.text().contains("Asia Desk") && subs.text().contains("include korea, seoul"),
        "{}",
        subs.text()
    );
    let sched = w
        .cmd(
            MANAGER,
            "digest",
            sub("schedule", &[("when", json!("daily 08:00")), ("timezone", json!("Europe/Paris"))]),
        )
        .await;
    assert!(sched.text().contains("Europe/Paris"), "{}", sched.text());
    let bad = w.cmd(MANAGER, "digest", sub("schedule", &[("when", json!("sometimes"))])).await;
    assert!(bad.ephemeral() && bad.text().contains("sometimes"), "{}", bad.text());
    let preview = w.cmd(MANAGER, "digest", sub("preview", &[])).await;
    assert!(preview.ephemeral(), "{}", preview.text());
    let now = w.cmd(MANAGER, "digest", sub("now", &[])).await;
    assert!(now.ephemeral(), "{}", now.text());
    let unsub = w.cmd(MANAGER, "unsubscribe", opts(&[("feed", f.clone())])).await;
    assert!(unsub.text().contains("no longer receives"), "{}", unsub.text());

    // Everyone: search, latest, article, help — public answers.
    let search = w.cmd(MEMBER, "search", opts(&[("query", json!("korea"))])).await;
    assert!(!search.ephemeral() && search.text().contains("korea story"), "{}", search.text());
    let latest = w.cmd(MEMBER, "latest", opts(&[("count", json!(3))])).await;
    assert!(latest.text().contains("korea story"), "{}", latest.text());
    // Item metadata ends "· #ID" (markdown-escaped as "\\#ID").
    let text = latest.text();
    let id: i64 = text
        .split('#')
        .skip(1)
        .find_map(|s| s.split(|c: char| !c.is_ascii_digit()).next().and_then(|d| d.parse().ok()))
        .expect("an article id in latest");
    let article = w.cmd(MEMBER, "article", opts(&[("id", json!(id))])).await;
    let m = article.message().expect("answer");
    assert_eq!(embeds(m)[0]["author"]["name"], "Asia Desk", "{m:#}");
    let help = w.cmd(MEMBER, "help", json!([])).await;
    assert!(help.text().contains("search"), "{}", help.text());
    let missing = w.cmd(MEMBER, "article", opts(&[("id", json!(999_999))])).await;
    assert!(missing.ephemeral(), "errors are private");

    // Admin again: remove.
    let rm = w.cmd(ADMIN, "feeds", sub("remove", &[("feed", f.clone())])).await;
    assert!(rm.text().contains("Removed feed"), "{}", rm.text());
    // Every answer allowed no mentions.
    for r in w
        .fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/interactions/") && r.body["type"] == 4)
    {
        assert!(no_mentions(&r.body["data"]["allowed_mentions"]), "{:#}", r.body);
    }
    w.stop().await;
}

#[tokio::test]
async fn feeds_import_takes_an_uploaded_opml_file() {
    let w = world().await;
    w.ready(1).await;
    let upload = |filename: &str, content_type: &str, size: u64, path: &str| {
        let file = w.fake.attachment(filename, content_type, size, &w.site.url(path));
        let id = file["id"].clone();
        let options = json!([{"name": "import", "type": 1, "options": [
            {"name": "file", "type": 11, "value": id}]}]);
        let resolved = json!({"attachments": {id.as_str().unwrap_or_default(): file}});
        w.fake.interaction_with(2, GUILD, CHAN, USER, ADMIN, "feeds", options, resolved)
    };
    w.site.feed("/one.xml", "application/rss+xml", &rss("One", &[]));
    w.site.feed("/two.xml", "application/rss+xml", &rss("Two", &[]));
    let opml = format!(
        "<?xml version=\"1.0\"?><opml version=\"2.0\"><body>\
         <outline text=\"One\" type=\"rss\" xmlUrl=\"{}\"/>\
         <outline text=\"Two\" type=\"rss\" xmlUrl=\"{}\"/></body></opml>",
        w.site.url("/one.xml"),
        w.site.url("/two.xml")
    );
    let size = opml.len() as u64;
    w.site.route("/attachments/9/feeds.opml", move |_| {
        Response::new(200, "application/octet-stream", opml.clone())
    });
    let answer =
        w.fake.wait_answer(upload("feeds.opml", "", size, "/attachments/9/feeds.opml")).await;
    assert!(answer.text().contains("2 added"), "{}", answer.text());
    let list = w.cmd(ADMIN, "feeds", sub("list", &[])).await;
    assert!(list.text().contains("one.xml") && list.text().contains("two.xml"), "{}", list.text());

    // Not OPML, too big, or nothing at all: a private answer that says so, nothing fetched.
    let png =
        w.fake.wait_answer(upload("cat.png", "image/png", 2_000, "/attachments/9/cat.png")).await;
    assert!(png.ephemeral() && png.text().contains("not an OPML file"), "{}", png.text());
    let big = 50 * 1024 * 1024;
    let huge =
        w.fake.wait_answer(upload("all.opml", "text/x-opml", big, "/attachments/9/all.opml")).await;
    assert!(huge.ephemeral() && huge.text().contains("up to 2048 KB"), "{}", huge.text());
    assert!(w.site.hits("/attachments/9/cat.png").is_empty());
    assert!(w.site.hits("/attachments/9/all.opml").is_empty());
    let none = w.cmd(ADMIN, "feeds", sub("import", &[])).await;
    assert!(none.ephemeral() && none.text().contains("upload the OPML file"), "{}", none.text());
}

#[tokio::test]
async fn feed_and_timezone_options_autocomplete() {
    let mut w = world().await;
    let feed = w.feed_with("/asia.xml", "Asia Desk", "korea", 1).await;
    w.feed_with("/euro.xml", "Euro Desk", "brussels", 1).await;
    let focused = json!([{"name": "feed", "type": 3, "value": "asi", "focused": true}]);
    let id = w.fake.interaction(4, GUILD, CHAN, USER, ADMIN, "subscribe", focused);
    let a = w.fake.wait_answer(id).await;
    let cb = a.callback.expect("callback");
    assert_eq!(cb["type"], 8);
    assert_eq!(
        cb["data"]["choices"],
        json!([{"name": format!("#{feed} Asia Desk"), "value": format!("#{feed}")}])
    );

    let focused = json!([{"name": "schedule", "type": 1, "options": [
        {"name": "when", "type": 3, "value": "daily 08:00"},
        {"name": "timezone", "type": 3, "value": "berl", "focused": true}]}]);
    let id = w.fake.interaction(4, GUILD, CHAN, USER, MANAGER, "digest", focused);
    let cb = w.fake.wait_answer(id).await.callback.expect("callback");
    assert_eq!(cb["data"]["choices"][0]["value"], "Europe/Berlin", "{cb:#}");
    w.stop().await;
}

#[tokio::test]
async fn search_results_page_with_buttons() {
    let mut w = world().await;
    w.feed_with("/feed.xml", "Asia Desk", "korea", 12).await;
    let first = w.cmd(MEMBER, "search", opts(&[("query", json!("korea"))])).await;
    let m = first.message().expect("answer").clone();
    assert!(first.text().contains("**korea**"), "matches are bold: {}", first.text());
    let buttons = m["components"][0]["components"].as_array().cloned().expect("a row of buttons");
    assert_eq!(buttons.len(), 2);
    assert_eq!(buttons[0]["disabled"], true, "no previous page on page 1");
    assert_eq!(buttons[1]["disabled"], false);
    // Press Next: the message is replaced by page 2 (type 7, update).
    let next = buttons[1]["custom_id"].as_str().expect("id").to_string();
    let msg = fake_message(&w.fake, &m);
    let id = w.fake.button(GUILD, CHAN, USER, &next, msg);
    let a = w.fake.wait_answer(id).await;
    let cb = a.callback.clone().expect("callback");
    assert_eq!(cb["type"], 7, "{cb:#}");
    assert!(
        fake_discord::embed_text(&cb["data"]).contains("Page 2")
            || cb["data"]["embeds"][0]["footer"]["text"]
                .as_str()
                .is_some_and(|f| f.contains("Page 2")),
        "{cb:#}"
    );
    let page2 = a.text();
    assert_ne!(page2, first.text(), "page 2 shows other results");
    w.stop().await;
}

/// A message as the gateway carries it in a button press.
fn fake_message(_fake: &FakeDiscord, data: &Value) -> Value {
    json!({
        "id": "1", "channel_id": CHAN.to_string(),
        "author": {"id": fake_discord::BOT_ID.to_string(), "username": "herald", "discriminator": "0", "global_name": null, "avatar": null, "bot": true},
        "content": "", "timestamp": "2026-11-30T08:00:00.000000+00:00", "edited_timestamp": null,
        "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": data["embeds"], "pinned": false, "type": 20, "flags": 0, "components": data["components"],
    })
}

#[tokio::test]
async fn an_article_is_posted_as_an_embed_with_nonce_and_no_mentions() {
    article_posted_as_embed(world().await).await;
}

/// The same with herald on PostgreSQL.
#[tokio::test]
async fn an_article_is_posted_as_an_embed_with_nonce_and_no_mentions_on_postgres() {
    if let Some(w) = world_on_postgres().await {
        article_posted_as_embed(w).await;
    }
}

async fn article_posted_as_embed(mut w: World) {
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    let s = w.cmd(MANAGER, "subscribe", opts(&[("feed", json!(format!("#{feed}")))])).await;
    assert!(s.text().contains("Subscribed"), "{}", s.text());
    let article = w.article(feed, "n1", "Talks resume **today** @everyone", &[CHAN]).await;
    let report = w.dispatch().await;
    assert_eq!(report.sent, 1, "{report:?}");
    let msgs = w.fake.messages(CHAN);
    assert_eq!(msgs.len(), 1);
    let body = &msgs[0].body;
    let e = &body["embeds"][0];
    assert_eq!(e["title"], "Talks resume \\*\\*today\\*\\* \\@everyone");
    assert_eq!(e["url"], "https://news.example/n1");
    assert_eq!(e["author"]["name"], "Asia Desk");
    assert_eq!(e["thumbnail"]["url"], "https://news.example/lead.jpg");
    assert!(e["timestamp"].as_str().is_some_and(|t| t.starts_with("2026-11-29T08:59")), "{e:#}");
    let seconds_kept =
        e["timestamp"].as_str().is_some_and(|t| t.starts_with("2026-11-29T08:59:07"));
    assert!(seconds_kept, "the embed's timestamp keeps its seconds: {e:#}");
    assert!(e["color"].as_u64().is_some());
    let d = e["description"].as_str().expect("description");
    assert!(
        d.contains("\\*\\*summary\\*\\*")
            && d.contains("\\[a link\\]")
            && d.contains("\\@everyone"),
        "{d}"
    );
    assert_eq!(e["footer"]["text"], format!("#{article}"));
    assert!(no_mentions(&body["allowed_mentions"]), "{body:#}");
    let ch = w.channel_row(CHAN).await;
    let installation = w.app.store.installation_id().await.expect("installation id");
    assert_eq!(installation.len(), 8);
    let nonce = herald::store::delivery_key(&installation, article, ch.id);
    assert!(nonce.len() <= 25 && nonce.contains(&installation), "{nonce}");
    assert_eq!(body["nonce"], nonce);
    assert_eq!(body["enforce_nonce"], true);
    w.stop().await;
}

#[tokio::test]
async fn a_digest_goes_out_at_its_scheduled_time_as_embeds() {
    digest_at_its_time(world().await).await;
}

/// The same with herald on PostgreSQL.
#[tokio::test]
async fn a_digest_goes_out_at_its_scheduled_time_as_embeds_on_postgres() {
    if let Some(w) = world_on_postgres().await {
        digest_at_its_time(w).await;
    }
}

async fn digest_at_its_time(mut w: World) {
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    let f = json!(format!("#{feed}"));
    w.cmd(MANAGER, "subscribe", opts(&[("feed", f), ("mode", json!("digest"))])).await;
    w.cmd(
        MANAGER,
        "digest",
        sub("schedule", &[("when", json!("daily 08:00")), ("timezone", json!("Europe/Berlin"))]),
    )
    .await;
    w.clock.advance(60);
    for i in 0..14 {
        w.article(feed, &format!("d{i}"), &format!("Digest story {i}"), &[]).await;
    }
    // T0 is Sun 29 Nov 2026 09:00 UTC: the next 08:00 in Berlin is Mon 07:00 UTC.
    let fire = T0 + 22 * 3600;
    w.clock.set(fire - 1);
    assert_eq!(w.dispatch().await, DispatchReport::default());
    assert!(w.fake.messages(CHAN).is_empty());
    w.clock.set(fire);
    let report = w.dispatch().await;
    assert_eq!(report.digests_sent, 1, "{report:?}");
    let msgs = w.fake.messages(CHAN);
    assert!(msgs.len() >= 2, "14 articles are split over messages of at most 10 items");
    let all: String = msgs.iter().map(|m| fake_discord::embed_text(&m.body)).collect();
    for i in 0..14 {
        assert!(all.contains(&format!("Digest story {i}")), "story {i} in the digest");
    }
    for m in &msgs {
        let nonce = m.body["nonce"].as_str().expect("nonce");
        assert!(nonce.get(9..10) == Some("g") && nonce.len() <= 25, "{nonce}");
        assert!(embeds(&m.body).len() <= 10);
    }
    assert_eq!(w.dispatch().await, DispatchReport::default(), "sent once");
    w.stop().await;
}

#[tokio::test]
async fn rate_limit_then_success_posts_exactly_once_and_forbidden_pauses() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    let f = json!(format!("#{feed}"));
    w.cmd_in(CHAN, MANAGER, "subscribe", opts(&[("feed", f.clone())])).await;
    w.cmd_in(CHAN2, MANAGER, "subscribe", opts(&[("feed", f.clone())])).await;
    // The second 500 meets the notice of CHAN2's pause, which is posted in CHAN.
    w.fake.fail_next(CHAN, [Fail::RateLimited(1.5), Fail::ServerError, Fail::ServerError]);
    w.fake.fail_next(CHAN2, [Fail::Forbidden]);
    w.article(feed, "r1", "Rate limited story", &[CHAN, CHAN2]).await;
    let report = w.dispatch().await;
    assert_eq!((report.sent, report.retried, report.paused_channels), (0, 1, 1), "{report:?}");
    assert!(w.fake.messages(CHAN).is_empty());
    // Not before the retry time (CHAN2's pause is announced in CHAN once it takes posts).
    assert_eq!(w.dispatch().await.sent, 0);
    w.clock.advance(2);
    let report = w.dispatch().await;
    assert_eq!(report.retried, 1, "500 retries with backoff: {report:?}");
    w.clock.advance(3600);
    let report = w.dispatch().await;
    assert_eq!(report.sent, 1, "{report:?}");
    w.clock.advance(3600);
    w.dispatch().await;
    assert_eq!(w.post_titles(CHAN), ["Rate limited story"], "posted exactly once");
    let posts: Vec<_> = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == format!("/channels/{CHAN}/messages"))
        .filter(|r| r.body["nonce"].as_str().is_some_and(is_post_key))
        .collect();
    assert_eq!(posts.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 500, 200]);
    assert!(
        posts.windows(2).all(|p| p[0].body["nonce"] == p[1].body["nonce"]),
        "the same nonce on every try"
    );
    // 403: the channel is paused with the reason, shown in /subscriptions.
    let ch2 = w.channel_row(CHAN2).await;
    assert!(ch2.paused_reason.as_deref().is_some_and(|r| r.contains("may not post")), "{ch2:?}");
    let subs = w.cmd_in(CHAN2, MANAGER, "subscriptions", json!([])).await;
    assert!(subs.text().contains("paused"), "{}", subs.text());
    assert!(w.fake.messages(CHAN2).is_empty());
    w.stop().await;
}

#[tokio::test]
async fn guild_and_channel_deletion_pause_posting() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    let f = json!(format!("#{feed}"));
    w.cmd_in(CHAN, MANAGER, "subscribe", opts(&[("feed", f.clone())])).await;
    w.cmd_in(CHAN2, MANAGER, "subscribe", opts(&[("feed", f.clone())])).await;
    w.fake.channel_delete(GUILD, CHAN2);
    wait_paused(&w, CHAN2, "deleted").await;
    assert!(w.channel_row(CHAN).await.paused_reason.is_none());
    w.fake.guild_delete(GUILD);
    wait_paused(&w, CHAN, "removed").await;
    w.article(feed, "p1", "Nobody sees this", &[CHAN, CHAN2]).await;
    assert_eq!(w.dispatch().await.sent, 0);
    assert!(w.fake.messages(CHAN).is_empty() && w.fake.messages(CHAN2).is_empty());
    w.stop().await;
}

async fn wait_paused(w: &World, channel: u64, why: &str) {
    for _ in 0..2000 {
        if w.channel_row(channel).await.paused_reason.as_deref().is_some_and(|r| r.contains(why)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("channel {channel} was not paused ({why})");
}

#[tokio::test]
async fn a_gateway_drop_and_reconnect_loses_nothing() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 3).await;
    w.cmd(MANAGER, "subscribe", opts(&[("feed", json!(format!("#{feed}")))])).await;
    w.fake.drop_connection();
    // While the bot is away: a command is queued on the gateway, a post through REST.
    let id = w.fake.interaction(
        2,
        GUILD,
        CHAN,
        USER,
        MEMBER,
        "search",
        opts(&[("query", json!("korea"))]),
    );
    w.article(feed, "gap1", "While disconnected", &[CHAN]).await;
    assert_eq!(w.dispatch().await.sent, 1, "posting does not need the gateway");
    let a = w.fake.wait_answer(id).await;
    assert!(a.text().contains("korea story"), "{}", a.text());
    assert!(w.fake.resumes() >= 1, "serenity resumed the session (events replayed)");
    assert_eq!(w.fake.messages(CHAN).len(), 1);
    w.stop().await;
}

#[tokio::test]
async fn a_restart_posts_nothing_twice() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    w.cmd(MANAGER, "subscribe", opts(&[("feed", json!(format!("#{feed}")))])).await;
    w.article(feed, "x1", "Before the restart", &[CHAN]).await;
    assert_eq!(w.dispatch().await.sent, 1);
    // The same key sent again (a crash between the send and recording it): Discord's
    // nonce returns the first message.
    let ch = w.channel_row(CHAN).await;
    let platform =
        w.running.as_ref().expect("running").adapter::<DiscordBot>().expect("discord").platform();
    let post = herald::reply::Reply::public(herald::reply::Tone::Article, "again")
        .with_title("Before the restart");
    let key = w.fake.messages(CHAN)[0].body["nonce"].as_str().expect("nonce").to_string();
    let again = platform.send(&CHAN.to_string(), &post, &key).await.expect("accepted");
    assert_eq!(
        again.message_id,
        Some(w.fake.messages(CHAN)[0].id.to_string()),
        "the first message is returned"
    );
    assert_eq!(w.fake.messages(CHAN).len(), 1);
    let _ = ch;
    // Restart herald on the same database and fake: nothing is posted again.
    w.stop().await;
    w.app.store.close().await;
    let app = open(&w.dir, &w.clock, &w.fake, None).await;
    w.app = app;
    w.running = Some(start(&w.app, sink(), false).await.expect("restart"));
    w.ready(2).await;
    w.clock.advance(3600);
    assert_eq!(w.dispatch().await, DispatchReport::default());
    w.article(feed, "x2", "After the restart", &[CHAN]).await;
    assert_eq!(w.dispatch().await.sent, 1);
    assert_eq!(w.fake.messages(CHAN).len(), 2);
    w.stop().await;
}

#[tokio::test]
async fn the_fake_rejects_what_discord_rejects() {
    let w = world().await;
    let client = reqwest::Client::new();
    let base = w.fake.api_base();
    let post = |path: String, body: Value, auth: bool| {
        let mut r = client
            .post(format!("{base}/api/v10{path}"))
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if auth {
            r = r.header("Authorization", format!("Bot {}", fake_discord::TOKEN));
        }
        r.send()
    };
    let code = |v: Value| v["code"].as_u64();
    let r = post(format!("/channels/{CHAN}/messages"), json!({"content": "x"}), false)
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    let r = post(format!("/channels/{CHAN}/messages"), json!({"content": ""}), true)
        .await
        .expect("send");
    assert_eq!(
        (
            r.status().as_u16(),
            code(serde_json::from_slice::<Value>(&r.bytes().await.expect("body")).expect("json"))
        ),
        (400, Some(50006))
    );
    let big = json!({"embeds": [{"description": "x".repeat(4097)}]});
    let r = post(format!("/channels/{CHAN}/messages"), big, true).await.expect("send");
    assert_eq!(
        (
            r.status().as_u16(),
            code(serde_json::from_slice::<Value>(&r.bytes().await.expect("body")).expect("json"))
        ),
        (400, Some(50035))
    );
    let r = post(
        "/interactions/1/nope/callback".into(),
        json!({"type": 4, "data": {"content": "x"}}),
        false,
    )
    .await
    .expect("send");
    assert_eq!(
        (
            r.status().as_u16(),
            code(serde_json::from_slice::<Value>(&r.bytes().await.expect("body")).expect("json"))
        ),
        (404, Some(10062))
    );
    // Answering one interaction twice.
    let id = w.fake.interaction(2, GUILD, CHAN, USER, MEMBER, "help", json!([]));
    w.fake.wait_answer(id).await;
    let token = w
        .fake
        .requests()
        .iter()
        .find(|r| r.path.starts_with(&format!("/interactions/{id}/")))
        .map(|r| r.path.clone())
        .expect("answered");
    let r =
        post(token, json!({"type": 4, "data": {"content": "again"}}), false).await.expect("send");
    assert_eq!(
        (
            r.status().as_u16(),
            code(serde_json::from_slice::<Value>(&r.bytes().await.expect("body")).expect("json"))
        ),
        (400, Some(40060))
    );
}

// ---------------------------------------------------------------------------------------
// Delivery that never stalls, keeps order and never gives up silently.

/// Runs the dispatcher's own loop (as `herald run` does) until the returned sender says
/// stop.
fn run_dispatcher(w: &World) -> (tokio::sync::watch::Sender<bool>, Arc<tokio::sync::Notify>) {
    let d = w.running.as_ref().expect("running").dispatcher.clone();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let wake = Arc::new(tokio::sync::Notify::new());
    let w2 = wake.clone();
    tokio::spawn(async move { d.run(rx, w2).await });
    (stop, wake)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_hangs_delays_no_other_channel() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    w.cmd_in(CHAN2, MANAGER, "subscriptions", json!([])).await;
    w.fake.set_hung(CHAN, Some(Duration::from_secs(60)));
    let (stop, wake) = run_dispatcher(&w);
    w.article(feed, "h1", "Stuck story", &[CHAN]).await;
    wake.notify_one();
    w.fake.wait_for("the hung post to be sent", |f| f.post_attempts(CHAN) == 1).await;

    // While that request hangs, another channel's post goes out at once.
    let t = Instant::now();
    w.article(feed, "h2", "Free story", &[CHAN2]).await;
    wake.notify_one();
    w.fake.wait_for("the other channel's post", |f| f.messages(CHAN2).len() == 1).await;
    let took = t.elapsed();
    assert!(took < Duration::from_secs(1), "the other channel waited {took:?}");
    assert!(w.fake.messages(CHAN).is_empty());
    assert_eq!(w.post_titles(CHAN2), ["Free story"]);

    // The hung send times out (2 s here) and is retried later with the same nonce.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let row = w.app.store.delivery_counts().await.expect("counts");
    assert!(row.contains(&("pending".to_string(), 1)), "{row:?}");
    let _ = stop.send(true);
    w.stop().await;
}

#[tokio::test]
async fn a_send_that_timed_out_after_the_message_was_created_is_not_duplicated() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    w.fake.fail_next(CHAN, [Fail::SlowAnswer(Duration::from_secs(4))]);
    w.article(feed, "t1", "Slow answer", &[CHAN]).await;
    let t = Instant::now();
    let report = w.dispatch().await;
    assert_eq!((report.sent, report.retried), (0, 1), "{report:?}");
    assert!(t.elapsed() < Duration::from_secs(4), "the send timeout (2 s) cut the wait");
    assert_eq!(w.fake.messages(CHAN).len(), 1, "the fake did create the message");

    w.clock.advance(60);
    let report = w.dispatch().await;
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(w.fake.post_attempts(CHAN), 2);
    assert_eq!(w.post_titles(CHAN), ["Slow answer"], "shown once");
    w.clock.advance(3600);
    assert_eq!(w.dispatch().await.sent, 0);
    assert_eq!(w.fake.messages(CHAN).len(), 1);
    w.stop().await;
}

#[tokio::test]
async fn a_burst_arrives_oldest_first_under_a_429_storm() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    // A storm: most posts are refused with 429 at first, some get through.
    let mut storm = Vec::new();
    for i in 0..60 {
        storm.push(if i % 3 == 2 { Fail::Pass } else { Fail::RateLimited(0.4) });
    }
    w.fake.fail_next(CHAN, storm);
    // 25 items as a feed lists them, newest first; stored in that order.
    let now = w.clock.now();
    for i in (0..25).rev() {
        w.article_at(
            feed,
            &format!("b{i}"),
            &format!("Burst {i:02}"),
            &[CHAN],
            Some(now - 3600 + i * 60),
        )
        .await;
    }
    for _ in 0..200 {
        w.dispatch().await;
        if w.post_titles(CHAN).len() == 25 {
            break;
        }
        w.clock.advance(2);
    }
    let want: Vec<String> = (0..25).map(|i| format!("Burst {i:02}")).collect();
    assert_eq!(w.post_titles(CHAN), want, "oldest first, each once");
    assert!(w.fake.requests().iter().filter(|r| r.status == 429).count() >= 20, "it stormed");
    w.stop().await;
}

#[tokio::test]
async fn undated_items_go_out_in_feed_order() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    // The feed lists newest first; without dates, that order is all there is, and the
    // poller stores such items in it reversed (oldest first, ids ascending).
    for i in 0..5 {
        w.article_at(feed, &format!("u{i}"), &format!("Undated {i}"), &[CHAN], None).await;
    }
    w.dispatch().await;
    let want: Vec<String> = (0..5).map(|i| format!("Undated {i}")).collect();
    assert_eq!(w.post_titles(CHAN), want);
    w.stop().await;
}

#[tokio::test]
async fn after_a_six_hour_outage_every_owed_post_arrives_within_a_minute() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    w.cmd_in(CHAN2, MANAGER, "subscriptions", json!([])).await;
    w.fake.set_down(true);
    let start = w.clock.now();
    let mut n = 0;
    while w.clock.now() < start + 6 * 3600 {
        if (w.clock.now() - start) % 600 == 0 {
            let p = w.clock.now() - 30;
            w.article_at(
                feed,
                &format!("o{n}"),
                &format!("Outage {n:02}"),
                &[CHAN, CHAN2],
                Some(p),
            )
            .await;
            n += 1;
        }
        w.dispatch().await;
        w.clock.advance(60);
    }
    assert!(w.fake.messages(CHAN).is_empty() && w.fake.messages(CHAN2).is_empty());
    let tries = w.fake.post_attempts(CHAN) + w.fake.post_attempts(CHAN2);
    // Backoff (each post at most every 5 minutes) and one probe when nothing was tried
    // for 45 s: fewer tries than one a minute per channel.
    assert!(tries < 2 * 6 * 60, "backoff, not a retry storm: {tries} tries in 6 h");

    w.fake.set_down(false);
    let back = w.clock.now();
    let want: Vec<String> = (0..n).map(|i| format!("Outage {i:02}")).collect();
    while w.post_titles(CHAN).len() < want.len() || w.post_titles(CHAN2).len() < want.len() {
        assert!(w.clock.now() - back <= 60, "not all owed posts within a minute of the return");
        w.dispatch().await;
        w.clock.advance(5);
    }
    assert_eq!(w.post_titles(CHAN), want, "every post, in order, once");
    assert_eq!(w.post_titles(CHAN2), want);
    assert!(w.app.store.delivery_counts().await.expect("counts") == [("sent".to_string(), 2 * n)]);
    w.stop().await;
}

#[tokio::test]
async fn a_paused_channel_and_a_disabled_feed_are_announced_once() {
    pause_and_disable_announced_once(world().await).await;
}

/// The same with herald on PostgreSQL.
#[tokio::test]
async fn a_paused_channel_and_a_disabled_feed_are_announced_once_on_postgres() {
    if let Some(w) = world_on_postgres().await {
        pause_and_disable_announced_once(w).await;
    }
}

async fn pause_and_disable_announced_once(mut w: World) {
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    let f = json!(format!("#{feed}"));
    w.cmd_in(CHAN, MANAGER, "subscribe", opts(&[("feed", f.clone())])).await;
    w.cmd_in(CHAN2, MANAGER, "subscribe", opts(&[("feed", f.clone())])).await;
    w.article(feed, "n0", "Everyone gets this", &[CHAN, CHAN2]).await;
    w.dispatch().await;

    // herald loses access to CHAN: the pause is announced in CHAN2, once.
    w.fake.fail_next(CHAN, [Fail::Forbidden]);
    w.article(feed, "n1", "Refused here", &[CHAN, CHAN2]).await;
    for _ in 0..5 {
        w.dispatch().await;
        w.clock.advance(600);
    }
    let notices = w.notices(CHAN2);
    assert_eq!(notices.len(), 1, "{notices:#?}");
    assert!(notices[0].contains(&format!("<#{CHAN}>")), "names the channel: {}", notices[0]);
    assert!(
        // The hint is the slash command, as code (herald's own markup is not escaped).
        notices[0].contains("Send Messages") && notices[0].contains("`/subscribe feed:<feed>`"),
        "{}",
        notices[0]
    );
    assert!(w.notices(CHAN).is_empty());

    // Fixed and resumed, then paused again: a new change of state, a new notice.
    w.cmd_in(CHAN, MANAGER, "subscribe", opts(&[("feed", f.clone())])).await;
    w.dispatch().await;
    assert_eq!(w.post_titles(CHAN), ["Everyone gets this", "Refused here"]);
    w.fake.fail_next(CHAN, [Fail::NotFound]);
    w.article(feed, "n2", "Gone", &[CHAN, CHAN2]).await;
    for _ in 0..3 {
        w.dispatch().await;
        w.clock.advance(600);
    }
    assert_eq!(w.notices(CHAN2).len(), 2, "{:#?}", w.notices(CHAN2));

    // The feed fails until the poller disables it: announced once.
    w.site.route("/feed.xml", |_| Response::status(500));
    for _ in 0..40 {
        w.clock.advance(6 * 3600);
        w.app.poller.poll_due(16).await.expect("poll");
        w.dispatch().await;
    }
    let feeds = w.app.store.community_feeds(w.community().await).await.expect("feeds");
    let row = feeds.iter().find(|c| c.feed.id == feed).expect("feed");
    assert!(row.feed.disabled_reason.is_some(), "the poller disabled it");
    let about_feed: Vec<String> =
        w.notices(CHAN2).into_iter().filter(|n| n.contains(&format!("#{feed}"))).collect();
    assert_eq!(about_feed.len(), 1, "{about_feed:#?}");
    assert!(about_feed[0].contains(&format!("`/feeds resume feed:{feed}`")), "{}", about_feed[0]);
    w.stop().await;
}

#[tokio::test]
async fn subscribe_where_herald_cannot_post_is_refused_naming_the_permission() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    const VIEW_CHANNEL: u64 = 1 << 10;
    const SEND_MESSAGES: u64 = 1 << 11;
    const EMBED_LINKS: u64 = 1 << 14;
    const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    // A bot role with what herald asks for at install, as Discord computes it for a channel.
    let role = VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | READ_MESSAGE_HISTORY
        | SEND_MESSAGES_IN_THREADS;
    w.fake.set_app_permissions(Some(role & !SEND_MESSAGES));
    let a = w.cmd(MANAGER, "subscribe", opts(&[("feed", json!(format!("#{feed}")))])).await;
    assert!(a.text().contains("Send Messages"), "{}", a.text());
    assert!(!a.text().contains("Embed Links"), "only what is missing: {}", a.text());
    assert!(!a.text().contains("Subscribed"));
    let ch = w.channel_row(CHAN).await;
    assert!(w.app.store.channel_subscriptions(ch.id).await.expect("subs").is_empty());

    w.fake.set_app_permissions(Some(role & !EMBED_LINKS));
    let a = w.cmd(MANAGER, "subscribe", opts(&[("feed", json!(format!("#{feed}")))])).await;
    assert!(a.text().contains("Embed Links"), "{}", a.text());

    w.fake.set_app_permissions(Some(role));
    let a = w.cmd(MANAGER, "subscribe", opts(&[("feed", json!(format!("#{feed}")))])).await;
    assert!(a.text().contains("Subscribed"), "{}", a.text());
    w.stop().await;
}

// ------------------------------------------------------------ subscription options

/// Slash-command options with their Discord types: `(name, type, value)`.
fn typed(options: &[(&str, u8, Value)]) -> Value {
    Value::Array(
        options.iter().map(|(n, t, v)| json!({"name": n, "type": t, "value": v})).collect(),
    )
}

/// The article posts in `channel` (herald's own messages with a post key, or a
/// webhook's), oldest first.
fn posts(w: &World, channel: u64) -> Vec<fake_discord::Posted> {
    w.fake
        .messages(channel)
        .into_iter()
        .filter(|m| m.webhook_id.is_some() || m.body["nonce"].as_str().is_some_and(is_post_key))
        .collect()
}

#[tokio::test]
async fn a_template_renders_its_markup_with_feed_text_escaped_and_bad_ones_are_refused() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    let f = json!(format!("#{feed}"));
    let unknown = w
        .cmd(
            MANAGER,
            "subscribe",
            opts(&[("feed", f.clone()), ("template", json!("{title} {titel}"))]),
        )
        .await;
    assert!(unknown.text().contains("unknown placeholder {titel}"), "{}", unknown.text());
    assert!(unknown.text().contains("{summary}"), "names the placeholders: {}", unknown.text());
    let long = format!("{} {{link}}", "x".repeat(2100));
    let over = w
        .cmd(
            MANAGER,
            "subscribe",
            opts(&[("feed", f.clone()), ("template", json!(long)), ("style", json!("compact"))]),
        )
        .await;
    assert!(over.text().contains("2101 characters, over the 2000"), "{}", over.text());
    let link_with_template = w
        .cmd(
            MANAGER,
            "subscribe",
            opts(&[("feed", f.clone()), ("template", json!("{title}")), ("style", json!("link"))]),
        )
        .await;
    assert!(
        link_with_template.text().contains("takes no template"),
        "{}",
        link_with_template.text()
    );
    let subs = w.cmd(MANAGER, "subscriptions", json!([])).await;
    assert!(subs.text().contains("None yet"), "refusals saved nothing: {}", subs.text());

    // A preview shows the latest article as it would be posted and saves nothing.
    let template = "**{title}** ({feed})\\n{summary}\\n{link}";
    let preview = w
        .cmd(
            MANAGER,
            "subscribe",
            typed(&[
                ("feed", 3, f.clone()),
                ("template", 3, json!(template)),
                ("preview", 5, json!(true)),
            ]),
        )
        .await;
    let shown = preview.text();
    assert!(shown.contains("**korea story 0** (Asia Desk)\nA report about korea"), "{shown}");
    assert!(preview.ephemeral(), "a preview is for the asker");
    let subs = w.cmd(MANAGER, "subscriptions", json!([])).await;
    assert!(subs.text().contains("None yet"), "a preview saves nothing: {}", subs.text());

    let s = w
        .cmd(
            MANAGER,
            "subscribe",
            opts(&[
                ("feed", f.clone()),
                ("template", json!(template)),
                ("style", json!("compact")),
            ]),
        )
        .await;
    assert!(s.text().contains("Subscribed") && s.text().contains("style compact"), "{}", s.text());
    w.article(feed, "n1", "Talks resume **today** @everyone", &[CHAN]).await;
    assert_eq!(w.dispatch().await.sent, 1);
    let p = posts(&w, CHAN);
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0].body["content"],
        "**Talks resume \\*\\*today\\*\\* \\@everyone** (Asia Desk)\nThe \\*\\*summary\\*\\* of it, \
         with \\[a link\\]\\(https\\://evil.example\\) and \\@everyone.\nhttps://news.example/n1"
    );
    assert!(embeds(&p[0].body).is_empty(), "compact posts are one message, no card");
    assert!(p[0].pinged_roles.is_empty() && !p[0].pinged_others, "feed text pings no one");

    // Subscribing again changes the style and keeps the rest; a link post is the bare link.
    let again = w
        .cmd(
            MANAGER,
            "subscribe",
            opts(&[("feed", f.clone()), ("template", json!("default")), ("style", json!("link"))]),
        )
        .await;
    assert!(again.text().contains("Updated"), "{}", again.text());
    w.article(feed, "n2", "Second story", &[CHAN]).await;
    assert_eq!(w.dispatch().await.sent, 1);
    assert_eq!(posts(&w, CHAN)[1].body["content"], "https://news.example/n2");
    w.stop().await;
}

#[tokio::test]
async fn a_role_ping_allows_exactly_that_role() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    let role = "700000000000000555";
    let s = w
        .cmd(
            MANAGER,
            "subscribe",
            typed(&[("feed", 3, json!(format!("#{feed}"))), ("mention", 8, json!(role))]),
        )
        .await;
    assert!(s.text().contains(&format!("pinging role {role}")), "{}", s.text());
    w.article(feed, "n1", "Alert <@&700000000000000777> @everyone", &[CHAN]).await;
    assert_eq!(w.dispatch().await.sent, 1);
    let p = posts(&w, CHAN);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].body["allowed_mentions"], json!({"parse": [], "roles": [role]}));
    assert_eq!(p[0].body["content"], format!("<@&{role}>"));
    assert_eq!(p[0].pinged_roles, [role], "that role and no other");
    assert!(!p[0].pinged_others);
    assert!(p[0].body["embeds"][0]["title"].as_str().is_some_and(|t| t.contains("\\<\\@&")));
    w.stop().await;
}

#[tokio::test]
async fn a_thread_is_opened_on_each_post_once_even_when_its_first_try_fails() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    let s = w
        .cmd(
            MANAGER,
            "subscribe",
            typed(&[("feed", 3, json!(format!("#{feed}"))), ("thread", 5, json!(true))]),
        )
        .await;
    assert!(s.text().contains("a thread per article"), "{}", s.text());
    let long = format!("Talks {}", "resume again ".repeat(12));
    w.article(feed, "n1", &long, &[CHAN]).await;
    // The message goes out; opening its thread fails once.
    w.fake.fail_next(CHAN, [Fail::Pass, Fail::ServerError]);
    assert_eq!(w.dispatch().await.retried, 1);
    assert_eq!(posts(&w, CHAN).len(), 1);
    assert!(w.fake.threads().is_empty());
    // The retry comes after Discord forgot the nonce: only the recorded message id
    // keeps it from posting again.
    w.fake.forget_nonces();
    w.clock.advance(3600);
    assert_eq!(w.dispatch().await.sent, 1);
    let p = posts(&w, CHAN);
    assert_eq!(p.len(), 1, "the retry opened the thread without posting again");
    let threads = w.fake.threads();
    assert_eq!(threads.len(), 1);
    assert_eq!((threads[0].message_id, threads[0].parent_id), (p[0].id, CHAN));
    let name = &threads[0].name;
    assert!(name.starts_with("Talks resume again") && name.ends_with('…'), "{name}");
    assert!(name.chars().count() <= 100, "{name}");
    w.clock.advance(3600);
    assert_eq!(w.dispatch().await, DispatchReport::default());

    // A thread cannot hold threads: asked in one, `thread` is refused at once.
    const IN_THREAD: u64 = 700_000_000_000_000_016;
    w.fake.set_channel(
        IN_THREAD,
        fake_discord::ChannelSpec { guild: GUILD, kind: 11, tags: vec![], manage_webhooks: true },
    );
    let feed_opt = json!(format!("#{feed}"));
    let id = w.fake.interaction(
        2,
        GUILD,
        IN_THREAD,
        USER,
        MANAGER,
        "subscribe",
        typed(&[("feed", 3, feed_opt), ("thread", 5, json!(true))]),
    );
    let refused = w.fake.wait_answer(id).await;
    assert!(refused.text().contains("a thread cannot hold threads"), "{}", refused.text());
    w.stop().await;
}

const FORUM: u64 = 700_000_000_000_000_015;

#[tokio::test]
async fn a_forum_channel_gets_one_tagged_post_per_article_and_a_lost_answer_posts_once() {
    let mut w = world().await;
    w.fake.set_channel(
        FORUM,
        fake_discord::ChannelSpec {
            guild: GUILD,
            kind: 15,
            tags: vec![(31, "Korea".into()), (32, "Sports".into()), (33, "asia desk".into())],
            manage_webhooks: true,
        },
    );
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 1).await;
    let registered = w.fake.global_commands();
    let subscribe = registered.iter().find(|c| c["name"] == "subscribe").expect("subscribe");
    let channel_opt =
        subscribe["options"].as_array().into_iter().flatten().find(|o| o["name"] == "channel");
    assert_eq!(channel_opt.map(|o| o["type"].clone()), Some(json!(7)), "{subscribe:#}");
    let options =
        typed(&[("feed", 3, json!(format!("#{feed}"))), ("channel", 7, json!(FORUM.to_string()))]);
    let resolved = |perms: u64| {
        json!({"channels": {FORUM.to_string(): {"id": FORUM.to_string(), "name": "news-forum",
            "type": 15, "permissions": perms.to_string()}}})
    };
    // The invoker needs Manage Channels in the channel subscribed, not only here.
    let id = w.fake.interaction_with(
        2,
        GUILD,
        CHAN,
        USER,
        MANAGER,
        "subscribe",
        options.clone(),
        resolved(perms::NONE),
    );
    let refused = w.fake.wait_answer(id).await;
    assert!(refused.text().contains("Manage Channels permission in"), "{}", refused.text());
    let id = w.fake.interaction_with(
        2,
        GUILD,
        CHAN,
        USER,
        perms::NONE,
        "subscribe",
        options,
        resolved(MANAGER),
    );
    let ok = w.fake.wait_answer(id).await;
    assert!(ok.text().contains("Subscribed"), "{}", ok.text());
    let forum = w.channel_row(FORUM).await;
    let subs = w.app.store.channel_subscriptions(forum.id).await.expect("subs");
    assert_eq!(subs.len(), 1, "the forum is subscribed, not the channel typed in");

    w.article(feed, "n1", "Korea talks resume", &[FORUM]).await;
    assert_eq!(w.dispatch().await.sent, 1);
    let threads = w.fake.threads();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].name, "Korea talks resume");
    assert_eq!(threads[0].parent_id, FORUM);
    assert_eq!(threads[0].applied_tags, ["31", "33"], "Korea and asia desk match; sports not");
    let first = w.fake.messages(threads[0].id);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].body["embeds"][0]["title"], "Korea talks resume");

    // The forum post is made but its answer comes after herald gave up (2 s).
    w.article(feed, "n2", "Second forum story", &[FORUM]).await;
    w.fake.fail_next(FORUM, [Fail::SlowAnswer(Duration::from_secs(3))]);
    assert_eq!(w.dispatch().await.retried, 1);
    w.clock.advance(3600);
    assert_eq!(w.dispatch().await.sent, 1);
    let names: Vec<String> = w.fake.threads().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["Korea talks resume", "Second forum story"], "posted once");
    w.stop().await;
}

#[tokio::test]
async fn a_webhook_posts_as_the_feed_and_without_manage_webhooks_herald_posts_itself() {
    let mut w = world().await;
    let feed = w.feed_with("/feed.xml", "Discord Asia Desk", "korea", 1).await;
    let f = json!(format!("#{feed}"));
    let s = w
        .cmd(MANAGER, "subscribe", typed(&[("feed", 3, f.clone()), ("webhook", 5, json!(true))]))
        .await;
    assert!(s.text().contains("as the feed") && !s.text().contains("lacks"), "{}", s.text());
    w.article(feed, "n1", "First", &[CHAN]).await;
    w.article(feed, "n2", "Second", &[CHAN]).await;
    assert_eq!(w.dispatch().await.sent, 2);
    let hooks = w.fake.webhooks();
    assert_eq!(hooks.len(), 1, "created once, then reused");
    assert_eq!((hooks[0].name.as_str(), hooks[0].channel_id), ("herald", CHAN));
    let p = posts(&w, CHAN);
    assert_eq!(p.len(), 2);
    for m in &p {
        assert_eq!(m.webhook_id, Some(hooks[0].id));
        assert_eq!(m.body["username"], "Asia Desk", "the feed's name, without \"Discord\"");
        assert_eq!(m.body["avatar_url"], "http://example.invalid/favicon.ico");
        assert_eq!(m.body["allowed_mentions"], json!({"parse": []}));
    }
    assert_eq!(p[0].body["embeds"][0]["title"], "First");

    // A webhook call has no nonce: when its answer is lost, the retry finds the post.
    w.article(feed, "n4", "Fourth", &[CHAN]).await;
    w.fake.fail_next(CHAN, [Fail::SlowAnswer(Duration::from_secs(3))]);
    assert_eq!(w.dispatch().await.retried, 1);
    w.clock.advance(3600);
    assert_eq!(w.dispatch().await.sent, 1);
    let titles: Vec<Value> =
        posts(&w, CHAN).iter().map(|m| m.body["embeds"][0]["title"].clone()).collect();
    assert_eq!(titles, [json!("First"), json!("Second"), json!("Fourth")], "posted once");

    // Without Manage Webhooks: the subscribe says so, and herald posts as itself.
    w.fake.set_channel(
        CHAN2,
        fake_discord::ChannelSpec { guild: GUILD, kind: 0, tags: vec![], manage_webhooks: false },
    );
    let view_send_embed_threads = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 38);
    w.fake.set_app_permissions(Some(view_send_embed_threads));
    let id = w.fake.interaction(
        2,
        GUILD,
        CHAN2,
        USER,
        MANAGER,
        "subscribe",
        typed(&[("feed", 3, f), ("webhook", 5, json!(true))]),
    );
    let s = w.fake.wait_answer(id).await;
    assert!(s.text().contains("lacks the Manage Webhooks permission"), "{}", s.text());
    w.article(feed, "n3", "Third", &[CHAN2]).await;
    assert_eq!(w.dispatch().await.sent, 1);
    let p = posts(&w, CHAN2);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].webhook_id, None, "herald's own message");
    assert_eq!(p[0].body["embeds"][0]["title"], "Third");
    w.stop().await;
}

/// Help, usage lines and hints read as slash commands with named options, never the
/// terminal's `--options`.
#[tokio::test]
async fn help_and_hints_are_slash_commands() {
    let mut w = world().await;
    let help = w.cmd(MEMBER, "help", json!([])).await.text();
    assert!(
        help.contains("`/search query:<query> [feed:<feed>] [since:<since>] [page:<page>]`"),
        "{help}"
    );
    assert!(help.contains("`/subscribe feed:<feed> [mode:instant|digest]"), "{help}");
    assert!(help.contains("`/feeds add url:<url> [interval:5m|15m|"), "{help}");
    assert!(!help.contains("--"), "no terminal options on Discord: {help}");
    let topic = w.cmd(MEMBER, "help", opts(&[("command", json!("digest"))])).await.text();
    assert!(topic.contains("`/digest now`"), "{topic}");
    assert!(!topic.contains("--"), "{topic}");
    // A hint in a reply: the command to type, with its option named.
    let empty = w.cmd(ADMIN, "feeds", sub("list", &[])).await.text();
    assert!(empty.contains("`/feeds add url:<url>`"), "{empty}");
    let feed = w.feed_with("/feed.xml", "Asia Desk", "korea", 2).await;
    let paused = w.cmd(ADMIN, "feeds", sub("pause", &[("feed", json!(format!("#{feed}")))])).await;
    assert!(paused.text().contains(&format!("`/feeds resume feed:{feed}`")), "{}", paused.text());
    // A filter's regular expression is checked before anything is saved.
    let bad = w
        .cmd(
            MANAGER,
            "subscribe",
            opts(&[
                ("feed", json!(format!("#{feed}"))),
                ("include", json!("title:korea, /(a{1,3}/")),
            ]),
        )
        .await;
    assert!(bad.ephemeral(), "refusals are private");
    assert!(
        bad.text().contains("bad regular expression") && bad.text().contains("unclosed group"),
        "{}",
        bad.text()
    );
    let channel = w.channel_row(CHAN).await;
    let subs = w.app.store.channel_subscriptions(channel.id).await.expect("subscriptions");
    assert!(subs.is_empty(), "nothing saved: {subs:?}");
    w.stop().await;
}

/// Two processes that split the gateway's shards (`HERALD_DISCORD_SHARDS=0/2` and `1/2`):
/// each guild's events reach only the process running its shard, so every command is
/// answered once, by that process.
#[tokio::test]
async fn processes_splitting_the_shards_each_answer_their_own_guilds_once() {
    // Discord routes a guild to shard (id >> 22) % total: these two land on different shards.
    let (g0, g1) = (GUILD, GUILD + (1 << 22));
    let shard = |g: u64| ((g >> 22) % 2) as u32;
    assert_ne!(shard(g0), shard(g1));
    let fake = FakeDiscord::start(&[(g0, "Guild A", &[CHAN]), (g1, "Guild B", &[CHAN2])]).await;
    let clock = ManualClock::new(T0);
    let mut procs = Vec::new();
    for id in 0..2u32 {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = fake.api_base();
        let app = app(dir.path(), &clock, |c| {
            c.discord = Some(DiscordConfig {
                token: fake_discord::TOKEN.into(),
                dev_guild: None,
                api_base: Some(base),
                shards: format!("{id}/2").parse().expect("shard range"),
            });
        })
        .await;
        let running = start(&app, sink(), false).await.expect("herald starts");
        procs.push((dir, app, running));
    }
    fake.wait_for("both shards connected", |f| f.connected_shards() == (vec![0, 1], 2)).await;
    fake.wait_for("commands registered", |f| !f.global_commands().is_empty()).await;
    for (guild, channel) in [(g0, CHAN), (g1, CHAN2), (g0, CHAN), (g1, CHAN2)] {
        let id = fake.interaction(2, guild, channel, USER, ADMIN, "feeds", sub("list", &[]));
        let a = fake.wait_answer(id).await;
        assert!(!a.text().is_empty(), "guild {guild} answered");
    }
    // A second answer to one interaction would be refused (40060) and recorded.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused: Vec<_> = fake.requests().into_iter().filter(|r| r.status >= 400).collect();
    assert!(refused.is_empty(), "every interaction answered once: {refused:?}");
    assert_eq!(fake.shard_takeovers(), 0, "no shard ran in two processes");
    // Each process met only the guild on its shard (answering records the community).
    for (i, (_, app, _)) in procs.iter().enumerate() {
        let owned = if shard(g0) == i as u32 { g0 } else { g1 };
        let other = if owned == g0 { g1 } else { g0 };
        let db = sqlx::SqlitePool::connect(&app.config.database_url).await.expect("read db");
        let known: Vec<String> =
            sqlx::query_scalar("SELECT external_id FROM communities WHERE platform = 'discord'")
                .fetch_all(&db)
                .await
                .expect("communities");
        assert_eq!(known, [owned.to_string()], "process {i} met only guild {owned}, not {other}");
        db.close().await;
    }
    for (_, app, running) in procs {
        running.stop().await;
        app.store.close().await;
    }
}

/// Two processes on one database both running shard 0 of 1 (HERALD_DISCORD_SHARDS
/// forgotten) would each answer every command: the second refuses to start, saying
/// which process holds the shard; once the first stops, it starts.
#[tokio::test]
async fn a_second_process_for_the_same_shard_refuses_to_start() {
    let fake = FakeDiscord::start(&[(GUILD, "Guild", &[CHAN])]).await;
    let clock = ManualClock::new(T0);
    let (dir_a, dir_b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let db = format!("sqlite://{}/shared.db", dir_a.path().display());
    let open_one = |dir: std::path::PathBuf| {
        let (db, base, clock) = (db.clone(), fake.api_base(), clock.clone());
        async move {
            app(&dir, &clock, move |c| {
                c.database_url = db;
                c.discord = Some(DiscordConfig {
                    token: fake_discord::TOKEN.into(),
                    dev_guild: None,
                    api_base: Some(base),
                    shards: Default::default(),
                });
            })
            .await
        }
    };
    let app_a = open_one(dir_a.path().to_path_buf()).await;
    let running_a = start(&app_a, sink(), false).await.expect("the first starts");
    let app_b = open_one(dir_b.path().to_path_buf()).await;
    let refused = start(&app_b, sink(), false).await.err().expect("the second refuses");
    let why = format!("{refused:#}");
    assert!(why.contains("HERALD_DISCORD_SHARDS=0/1"), "{why}");
    assert!(why.contains(&dir_a.path().display().to_string()), "names the holder: {why}");
    assert_eq!(fake.shard_takeovers(), 0, "shard 0 ran in one process only");
    running_a.stop().await;
    let running_b = start(&app_b, sink(), false).await.expect("free once the first stopped");
    running_b.stop().await;
}
