//! `herald demo`: the whole product in one command, with no accounts. It serves two
//! bundled sample feeds on 127.0.0.1, follows them from the console channel, shows the
//! instant posts and a digest as they happen, then leaves the person at the prompt.

pub mod content;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::app::App;
use crate::clock;
use crate::config::Config;
use crate::localserver::{Handler, LocalServer, Response};
use crate::platform::terminal::{self, Output};
use crate::reply::Reply;
use crate::run;

/// The feed without its items: what the sample sites published before the demo began.
fn without_items(feed: &str) -> String {
    for (open, close) in [("<item", "</item>"), ("<entry", "</entry>")] {
        if let (Some(start), Some(end)) = (feed.find(open), feed.rfind(close)) {
            return format!("{}{}", &feed[..start], &feed[end + close.len()..]);
        }
    }
    feed.to_string()
}

/// Serves the sample sites; until `published` is set the feeds list no items.
async fn serve(published: Arc<AtomicBool>) -> anyhow::Result<LocalServer> {
    let addr: SocketAddr = "127.0.0.1:0".parse()?;
    // The base URL is only known once bound, so the handler reads it from a cell.
    let base: Arc<std::sync::OnceLock<String>> = Arc::default();
    let base_in = base.clone();
    let files = content::files();
    let handler: Handler = Arc::new(move |req| {
        let Some(file) = files.iter().find(|f| f.path == req.path()) else {
            return Response::new(404, "text/plain", "not found");
        };
        let base = base_in.get().map(String::as_str).unwrap_or_default();
        let mut body = content::render(file.body, base);
        if file.path.ends_with(".xml") && !published.load(Ordering::SeqCst) {
            body = without_items(&body);
        }
        Response::new(200, file.content_type, body)
    });
    let server = LocalServer::start(addr, handler).await?;
    let _ = base.set(server.url(""));
    Ok(server)
}

fn say(out: &Output, text: &str) {
    terminal::print(out, &Reply::info(text.to_string()));
}

/// Runs the demo on a fresh database in a temporary folder.
pub async fn run(mut config: Config) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("herald-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    config.database_url = format!("sqlite://{}/demo.db", dir.display());
    config.data_dir = dir.clone();
    // The demo's own sites, and nothing else private, may be fetched.
    config.fetch.private_allowlist.push("127.0.0.1".parse()?);
    let app = App::open(config, clock::system()).await?;
    let published = Arc::new(AtomicBool::new(false));
    let server = serve(published.clone()).await?;
    let out = terminal::stdout();
    let mut running = run::start(&app, out.clone(), false).await?;

    say(
        &out,
        &format!(
            "herald demo: two sample news sites are running at {}. Watch herald follow them \
         from this terminal, exactly as a channel of a chat server would.",
            server.url("/")
        ),
    );
    let world = server.url("/world.xml");
    let local = server.url("/local.xml");
    let script = [
        format!("feeds add {world}"),
        format!("feeds add {local}"),
        "subscribe 1 instant".to_string(),
        "subscribe 2 digest".to_string(),
        "digest schedule daily 08:00 UTC".to_string(),
    ];
    for line in &script {
        say(&out, &format!("> /{line}"));
        if let Some(reply) = running.command(line).await {
            terminal::print(&out, &reply);
        }
    }
    // The first poll reads the sites as they were: history, nothing to announce.
    app.poller.poll_due(16).await?;
    say(&out, "The sites publish their stories now. Instant posts follow:");
    published.store(true, Ordering::SeqCst);
    app.store.reschedule_all(app.clock.now()).await?;
    app.poller.poll_due(16).await?;
    running.dispatcher.run_once().await?;

    say(&out, "Now the digest of both sites (the same story from both appears once, \"also in\"):");
    for line in ["subscribe 1 digest", "digest now"] {
        say(&out, &format!("> /{line}"));
        if let Some(reply) = running.command(line).await {
            terminal::print(&out, &reply);
        }
    }
    running.dispatcher.run_once().await?;
    running.spawn_background(&app);
    say(
        &out,
        "Your turn: try /search korea, /latest, /article 1, /subscriptions or /help. /quit ends the demo.",
    );
    let signals = crate::service::shutdown::Signals::install()?;
    let result = run::repl(running, out, signals).await;
    drop(server);
    app.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}
