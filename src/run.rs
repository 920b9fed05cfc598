//! `herald run`: polling, delivery and the console channel in one process, stopped
//! cleanly by SIGTERM, SIGINT (Ctrl-C), `/quit` or the end of input. With
//! `--no-console` (under a service manager) only a signal stops it.

use std::io::IsTerminal;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{Notify, watch};

use crate::app::App;
use crate::clock::Timestamp;
use crate::commands::parse::Role;
use crate::commands::{Core, CoreLimits, Ctx, Scope};
use crate::deliver::outbox::Dispatcher;
use crate::platform::terminal::{self, ConsolePlatform, Output};
use crate::platform::{Adapter, Platforms};
use crate::reply::Reply;
use crate::service::health::{ConnectedProbe, Health};
use crate::service::http::OpsServer;
use crate::service::shutdown::Signals;

/// A running herald: its command core and the background loops.
pub struct Running {
    pub core: Core,
    pub dispatcher: Dispatcher,
    pub console: Ctx,
    pub dispatch_wake: Arc<Notify>,
    pub poll_wake: Arc<Notify>,
    /// The chat platforms' adapters the configuration asked for.
    pub adapters: Vec<Box<dyn Adapter>>,
    /// Readiness and metrics, as `/readyz` and `/metrics` serve them.
    pub health: Health,
    /// The operators' endpoint, when `HERALD_HTTP_ADDR` is set.
    pub ops: Option<OpsServer>,
    grace: std::time::Duration,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// The console channel's context: the operator, with every role, in the console's
/// community; `Scope::Installation` for the operator's command line (`herald feeds …`).
pub async fn console_ctx(app: &App, scope: Scope) -> anyhow::Result<Ctx> {
    let now: Timestamp = app.clock.now();
    let community = app.store.console_community(now).await?;
    let channel = app
        .store
        .ensure_channel(community, "console", terminal::CHANNEL, Some("console"), now)
        .await?;
    Ok(Ctx {
        community_id: community,
        channel,
        user: "operator".into(),
        role: Role::Admin,
        operator: true,
        local_files: true,
        scope,
    })
}

/// Builds the core, the dispatcher (with the console platform writing to `out`) and the
/// console channel's context.
pub async fn start(app: &App, out: Output, background: bool) -> anyhow::Result<Running> {
    let console = console_ctx(app, Scope::Community).await?;
    let dispatch_wake = Arc::new(Notify::new());
    let poll_wake = Arc::new(Notify::new());
    let limits = CoreLimits::from_config(&app.config);
    let platforms = Platforms::new(vec![Arc::new(ConsolePlatform::new(
        app.store.clone(),
        app.clock.clone(),
        out,
    ))]);
    let core = Core::new(
        app.store.clone(),
        app.fetcher.clone(),
        app.clock.clone(),
        limits,
        dispatch_wake.clone(),
        poll_wake.clone(),
    )
    .with_metrics(app.metrics.clone())
    .with_platforms(platforms.clone());
    // Chat platforms beside the console: their posts go through the same outbox.
    let adapters = crate::platform::start_configured(app, &core).await?;
    let mut probes: Vec<(&'static str, ConnectedProbe)> = Vec::new();
    for adapter in &adapters {
        platforms.register(adapter.platform());
        probes.push((adapter.name(), adapter.connected_probe(app.clock.clone())));
    }
    let dispatcher = Dispatcher::new(app.store.clone(), app.clock.clone(), platforms.all())
        .with_policy(app.config.delivery.clone())
        .with_service(app.metrics.clone(), app.config.service.shutdown_grace);
    let health = Health {
        store: app.store.clone(),
        metrics: app.metrics.clone(),
        clock: app.clock.clone(),
        platforms: probes,
    };
    let ops = match app.config.service.http_addr {
        Some(addr) if background => Some(
            OpsServer::start(addr, health.clone())
                .await
                .map_err(|e| anyhow::anyhow!("HERALD_HTTP_ADDR {addr}: {e}"))?,
        ),
        _ => None,
    };
    let (shutdown, _) = watch::channel(false);
    let mut running = Running {
        core,
        dispatcher,
        console,
        dispatch_wake,
        poll_wake,
        adapters,
        health,
        ops,
        grace: app.config.service.shutdown_grace,
        shutdown,
        tasks: Vec::new(),
    };
    if background {
        running.spawn_background(app);
    }
    Ok(running)
}

impl Running {
    /// The running adapter of type `T`, if one was started.
    pub fn adapter<T: Adapter>(&self) -> Option<&T> {
        self.adapters.iter().find_map(|a| a.as_any().downcast_ref::<T>())
    }

    /// Starts the delivery and polling loops.
    pub fn spawn_background(&mut self, app: &App) {
        let rx = self.shutdown.subscribe();
        let d = self.dispatcher.clone();
        let (rx_d, wake) = (rx.clone(), self.dispatch_wake.clone());
        self.tasks.push(tokio::spawn(async move { d.run(rx_d, wake).await }));
        let poller = app.poller.clone();
        let (pw, dw) = (self.poll_wake.clone(), self.dispatch_wake.clone());
        let slots = app.config.fetch.concurrency;
        self.tasks.push(tokio::spawn(async move { poller.run(rx, slots, pw, dw).await }));
    }
    /// Runs one console line; `None` for blank lines and comments.
    pub async fn command(&mut self, line: &str) -> Option<Reply> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let reply = self.core.handle_text(&self.console, line).await;
        // The channel row may have changed (digest schedule, pause): read it again.
        if let Ok(Some(ch)) = self.core.store().channel(self.console.channel.id).await {
            self.console.channel = ch;
        }
        Some(reply)
    }

    /// Stops taking new work and lets what is in flight finish: the dispatcher gives
    /// its sends the grace period (then cancels them; they stay owed), polls in flight
    /// get the same, then the platform connections are closed.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        // The dispatcher bounds its own senders by the grace; the margin covers
        // recording their outcomes and handing channels back.
        let deadline = self.grace + std::time::Duration::from_secs(2);
        let aborts: Vec<_> = self.tasks.iter().map(|t| t.abort_handle()).collect();
        let all = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(deadline, all).await.is_err() {
            // A poll still running is cancelled; its feed stays claimed for the lease
            // and is polled again after it (nothing it stored is lost).
            tracing::warn!("work still running after the shutdown grace period is cancelled");
            for a in aborts {
                a.abort();
            }
        }
        for adapter in self.adapters {
            adapter.stop().await;
        }
        drop(self.ops);
    }
}

/// The console REPL on stdin/stdout until `/quit`, end of input or Ctrl-C. With
/// `role`, the console acts as that role instead of as the operator.
pub async fn run_console(app: App, role: Option<Role>) -> anyhow::Result<()> {
    let signals = Signals::install()?;
    let out = terminal::stdout();
    let mut running = start(&app, out.clone(), true).await?;
    if let Some(role) = role {
        running.console.role = role;
        running.console.operator = false;
    }
    terminal::print(
        &out,
        &Reply::info(
            "herald is running with this terminal as its channel. Type commands such as \
             /feeds add URL, /subscribe 1, /search korea, /help; /quit stops.",
        ),
    );
    repl(running, out, signals).await?;
    app.store.close().await;
    Ok(())
}

/// `herald run --no-console`: polling and delivery (and the chat platforms' adapters)
/// until SIGTERM or SIGINT, for a service manager. Console subscriptions still print
/// to standard output.
pub async fn run_service(app: App) -> anyhow::Result<()> {
    let mut signals = Signals::install()?;
    let running = start(&app, terminal::stdout(), true).await?;
    tracing::info!("herald is running; SIGTERM or SIGINT stops it");
    let (name, _) = signals.recv().await;
    stop_on_signal(running, signals, name).await;
    app.store.close().await;
    Ok(())
}

async fn stop_on_signal(running: Running, signals: Signals, name: &str) {
    tracing::info!(
        "{name}: stopping (sends in flight get {}; a second signal exits at once)",
        crate::domain::units::format_duration(running.grace)
    );
    signals.exit_on_second();
    running.stop().await;
    tracing::info!("herald stopped");
}

/// Reads console commands until `/quit`, end of input or Ctrl-C, then stops `running`
/// after a last delivery round.
pub async fn repl(mut running: Running, out: Output, mut signals: Signals) -> anyhow::Result<()> {
    let interactive = std::io::stdin().is_terminal();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        if interactive {
            use std::io::Write as _;
            print!("herald> ");
            let _ = std::io::stdout().flush();
        }
        let event = tokio::select! {
            line = lines.next_line() => Ok(line),
            (name, _) = signals.recv() => Err(name),
        };
        let line = match event {
            Ok(line) => line,
            Err(name) => {
                // A service manager's stop: no last round, what is owed stays owed.
                stop_on_signal(running, signals, name).await;
                return Ok(());
            }
        };
        let line = match line {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!("reading the console failed: {e}");
                break;
            }
        };
        let trimmed = line.trim().trim_start_matches(['/', '!']);
        if trimmed.eq_ignore_ascii_case("quit") || trimmed.eq_ignore_ascii_case("exit") {
            break;
        }
        if let Some(reply) = running.command(&line).await {
            terminal::print(&out, &reply);
        }
    }
    // Stop the loops (letting a poll in flight finish), then post what is queued.
    let dispatcher = running.dispatcher.clone();
    running.stop().await;
    let _ = dispatcher.run_once().await;
    Ok(())
}
