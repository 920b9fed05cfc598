//! The `herald` command line. Each subcommand is a thin shell over the library.

use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use herald::app::App;
use herald::clock;
use herald::commands::parse::{Command as CoreCommand, FeedRef};
use herald::commands::{Core, CoreLimits, Scope};
use herald::config::Config;
use herald::domain::units::{format_duration, parse_duration};
use herald::ingest::add::{AddRequest, IntervalLimits, add_feed};
use herald::ingest::opml::parse_opml;
use herald::ingest::parse_feed;
use herald::reply::Tone;
use herald::store::SearchScope;
use herald::summarize::{Extractive, Summarizer};
use herald::{bench, extract, run, textcli};
use std::sync::Arc;
use tokio::sync::Notify;

/// Prints a line for a person. Feed text reaches the terminal here, so the line is
/// cleaned of everything a terminal acts on (escape sequences, controls, bidi
/// overrides); a closed pipe (`herald search x | head`) ends herald quietly.
macro_rules! say {
    ($($arg:tt)*) => { emit(false, &herald::platform::console::clean(&format!($($arg)*))) };
}

/// Prints machine-readable output (JSON, OPML) as it is: its format escapes text.
macro_rules! say_raw {
    ($($arg:tt)*) => { emit(false, &format!($($arg)*)) };
}

/// [`say!`] to standard error.
macro_rules! esay {
    ($($arg:tt)*) => { emit(true, &herald::platform::console::clean(&format!($($arg)*))) };
}

fn emit(to_stderr: bool, line: &str) {
    let written = if to_stderr {
        writeln!(std::io::stderr().lock(), "{line}")
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").and_then(|()| out.flush())
    };
    if let Err(e) = written
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        // The reader has gone; there is no one left to tell.
        std::process::exit(0);
    }
}

/// herald: article digests from RSS, Atom and JSON feeds, for Discord, Matrix and the terminal.
///
/// Configuration comes from the environment and from a `.env` file in the current
/// directory (see .env.example). With no configuration, herald keeps its data in
/// ./data/herald.db.
#[derive(Parser)]
#[command(name = "herald", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage the feeds herald polls.
    #[command(subcommand)]
    Feeds(FeedsCmd),
    /// Try herald with no accounts: sample feeds on 127.0.0.1, posts and a digest here.
    Demo,
    /// Run herald: polling, delivery, and this terminal as a channel (type /help).
    Run {
        /// Act in the console as this role instead of as the operator (to try what
        /// members or channel managers may do): member, manager or admin.
        #[arg(long = "as", value_name = "ROLE")]
        role: Option<String>,
        /// Run as a service: no console on stdin; SIGTERM or SIGINT stops herald
        /// (sends in flight get HERALD_SHUTDOWN_GRACE to finish).
        #[arg(long, conflicts_with = "role")]
        no_console: bool,
    },
    /// Is herald healthy? Readiness, feeds, archive and outbox, read from the database
    /// (and from the running process's /readyz when HERALD_HTTP_ADDR is set).
    Status,
    /// Copy the database to FILE, consistently, while herald runs (restore: README,
    /// "Backups").
    Backup {
        /// Where the copy goes; it must not exist yet.
        file: PathBuf,
    },
    /// Move data between databases.
    #[command(subcommand)]
    Db(DbCmd),
    /// Poll due feeds and store their new articles (forever, or once with --once).
    ///
    /// Feed URLs given here are added first (checked, and discovered from a site's page).
    Poll {
        /// Poll what is due now, then exit.
        #[arg(long)]
        once: bool,
        /// Feeds to add before polling.
        feeds: Vec<String>,
    },
    /// Full-text search over stored articles, best match first.
    Search {
        /// Words to look for; "quoted phrases" match as phrases.
        #[arg(required = true)]
        query: Vec<String>,
        #[arg(long, default_value_t = 10)]
        limit: i64,
    },
    /// Show one stored article: summary, link, feed and date.
    Article { id: i64 },
    /// Parse a feed file and print its items as JSON.
    ParseFeed {
        /// The feed file ("-" for stdin).
        file: PathBuf,
    },
    /// Extract an article's main text from HTML (a file or stdin).
    Extract {
        /// The page's address, used to resolve relative links.
        #[arg(long)]
        url: Option<String>,
        /// Read JSON lines {"id","url","html"} from stdin; write {"id","title","text"}.
        #[arg(long)]
        jsonl: bool,
        file: Option<PathBuf>,
    },
    /// Summarize plain text (a file or stdin): one sentence a line.
    Summarize {
        #[arg(long, default_value_t = 3)]
        sentences: usize,
        /// Read JSON lines {"id","text","title"} from stdin; write {"id","summary"}.
        #[arg(long)]
        jsonl: bool,
        file: Option<PathBuf>,
    },
    /// Measure herald's speed on this machine.
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(Subcommand)]
enum DbCmd {
    /// Copy feeds, the communities following them and articles from one database into
    /// another (e.g. SQLite into PostgreSQL), ids kept; re-running copies only what is
    /// missing. Channels, subscriptions and the outbox are not copied yet.
    Copy {
        /// The source, e.g. sqlite://data/herald.db
        #[arg(long)]
        from: String,
        /// The target, e.g. postgres://herald@db/herald (migrated first)
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum FeedsCmd {
    /// Add a feed (a site's home page works too: its advertised feed is used).
    Add(AddArgs),
    /// List feeds with their status, last error and next poll.
    List,
    /// Remove a feed (by id or URL) and its stored articles.
    Remove { feed: String },
    /// Stop polling a feed until it is resumed.
    Pause { feed: String },
    /// Resume a paused or disabled feed; it is polled right away.
    Resume { feed: String },
    /// Add every feed in an OPML file.
    Import { file: PathBuf },
    /// Print all feeds as OPML.
    Export,
}

#[derive(Args)]
struct AddArgs {
    url: String,
    /// How often to poll it, e.g. 30m or 1h (default HERALD_POLL_INTERVAL, 15m).
    #[arg(long)]
    interval: Option<String>,
    /// Store the URL without fetching it first.
    #[arg(long)]
    no_check: bool,
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Poll N feeds served on loopback: the 200 path, then the 304 path.
    Poll {
        #[arg(long, default_value_t = 10_000)]
        feeds: usize,
    },
    /// Serve N generated feeds (and their article pages) on loopback until stdin closes,
    /// writing their OPML to a file: the feed origin of `bench/reader_compare/`.
    ServeFeeds {
        #[arg(long, default_value_t = 1_000)]
        feeds: usize,
        #[arg(long, default_value_t = 16)]
        hosts: u8,
        #[arg(long)]
        opml: PathBuf,
    },
    /// One article fanned out to N subscribed channels: time to enqueue.
    Fanout {
        #[arg(long, default_value_t = 10_000)]
        channels: usize,
        /// Measure on this empty PostgreSQL database (postgres://…) instead of a
        /// temporary SQLite file.
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
    /// Search latency over N stored articles.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        articles: usize,
        /// Keep the archive in this folder, and reuse it on the next run.
        #[arg(long)]
        keep: Option<PathBuf>,
        /// Also measure on this PostgreSQL database (postgres://…): the archive is
        /// copied into it, or reused if it holds it already.
        #[arg(long, value_name = "URL")]
        postgres: Option<String>,
    },
    /// Extraction F1 and ms per page on the extraction dev set (dom_smoothie beside it).
    Extract {
        /// The shared data folder.
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
    },
    /// ROUGE and ms per article on the summaries dev set (LEAD-3 beside it).
    Summarize {
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        #[arg(long, default_value_t = 3)]
        sentences: usize,
    },
    /// Agreement with feedparser on its test feeds, and ms per parse of a 100 KB feed.
    Feeds {
        /// A folder of feedparser's test feeds.
        #[arg(long, default_value = "../shared/data/feeds-feedparser-dev")]
        data: PathBuf,
        /// feedparser's reading of them (scripts/feedparser_reference.py).
        #[arg(long, default_value = "tests/data/feedparser-dev-reference.json")]
        reference: PathBuf,
    },
    /// Worst CPU time and peak memory of each hostile feed and page, each case in a
    /// child process of its own; fails when one passes the limits.
    Hostile {
        /// Run only this case, in this process (what the children do).
        #[arg(long)]
        case: Option<String>,
        /// One JSON line per case instead of the table.
        #[arg(long)]
        json: bool,
        /// CPU time a case may use.
        #[arg(long, default_value = "2s")]
        max_cpu: String,
        /// Megabytes of memory above the input a case may use.
        #[arg(long, default_value_t = 64.0)]
        max_mb: f64,
        /// Instead: poll 200 healthy feeds beside a hostile one for this long (e.g. 5m)
        /// and report the healthy feeds' lateness.
        #[arg(long)]
        lateness: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Bench(BenchCmd::Extract { data }) => {
            return exit_of_bench(bench::text::extract_bench(data));
        }
        Command::Bench(BenchCmd::Summarize { data, sentences }) => {
            return exit_of_bench(bench::text::summarize_bench(data, *sentences));
        }
        Command::Bench(BenchCmd::Feeds { data, reference }) => {
            return exit_of_bench(bench::feeds::run(data, reference));
        }
        Command::Bench(BenchCmd::Hostile { lateness: Some(_), .. }) => {}
        Command::Bench(BenchCmd::Hostile { case, json, max_cpu, max_mb, lateness: None }) => {
            let max_cpu = match parse_duration(max_cpu) {
                Ok(d) => d,
                Err(e) => {
                    esay!("herald: --max-cpu: {e}");
                    return ExitCode::from(2);
                }
            };
            let limits = bench::hostile::Limits { max_cpu, max_mb: *max_mb };
            return exit_of_bench(bench::hostile::hostile_bench(case.as_deref(), *json, limits));
        }
        _ => {}
    }
    // Text commands are pure functions of their input: no config, no runtime, no logs.
    match &cli.command {
        Command::ParseFeed { file } => return parse_feed_cmd(file),
        Command::Extract { url, jsonl, file } => {
            return extract_cmd(url.as_deref(), *jsonl, file.as_ref());
        }
        Command::Summarize { sentences, jsonl, file } => {
            return summarize_cmd(*sentences, *jsonl, file.as_ref());
        }
        _ => {}
    }
    let _ = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            esay!("herald: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG")
        .unwrap_or_else(|_| format!("herald=info,warn,{}", herald::platform::LOG_FILTER).into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if config.service.log_json {
        // One JSON object a line, for log shippers.
        logs.json().with_current_span(false).init();
    } else {
        logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            esay!("herald: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            esay!("herald: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    if let Command::Demo = command {
        herald::demo::run(config).await?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Bench(bench_cmd) = command {
        bench_cmd_run(bench_cmd, config).await?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Db(DbCmd::Copy { from, to }) = command {
        return db_copy_cmd(&from, &to).await;
    }
    let app = App::open(config, clock::system()).await?;
    match command {
        Command::Run { no_console: true, .. } => herald::run::run_service(app).await?,
        Command::Status => {
            let (lines, ready) = herald::service::status::status(&app).await?;
            for line in lines {
                say!("{line}");
            }
            if !ready {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Backup { file } => return backup_cmd(&app, &file).await,
        Command::Run { role, .. } => return console_cmd(app, role).await,
        Command::Feeds(cmd) => return feeds_cmd(&app, cmd).await,
        Command::Poll { once, feeds } => return poll_cmd(&app, once, feeds).await,
        Command::Search { query, limit } => search_cmd(&app, query, limit).await?,
        Command::Article { id } => return article_cmd(&app, id).await,
        Command::Demo
        | Command::ParseFeed { .. }
        | Command::Extract { .. }
        | Command::Summarize { .. }
        | Command::Bench(_)
        | Command::Db(_) => unreachable!("handled before the app opens"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The benches that need the runtime.
async fn bench_cmd_run(bench_cmd: BenchCmd, config: Config) -> anyhow::Result<()> {
    match bench_cmd {
        BenchCmd::Poll { feeds } => bench::poll::run(feeds, config).await?,
        BenchCmd::ServeFeeds { feeds, hosts, opml } => {
            bench::corpus::serve_feeds(feeds, hosts, &opml).await?
        }
        BenchCmd::Fanout { channels, postgres } => {
            bench::deliver::fanout(channels, postgres).await?
        }
        BenchCmd::Search { articles, keep, postgres } => {
            bench::deliver::search(articles, keep, postgres).await?
        }
        BenchCmd::Hostile { lateness: Some(run_for), .. } => {
            let run_for = parse_duration(&run_for).map_err(anyhow::Error::msg)?;
            bench::hostile::lateness_bench(200, run_for).await?
        }
        BenchCmd::Extract { .. }
        | BenchCmd::Summarize { .. }
        | BenchCmd::Hostile { .. }
        | BenchCmd::Feeds { .. } => {
            unreachable!("text benches run before the runtime starts")
        }
    }
    Ok(())
}

/// `herald db copy`: the whole installation, then the row counts of both sides compared.
async fn db_copy_cmd(from: &str, to: &str) -> anyhow::Result<ExitCode> {
    use herald::config::redact_password;
    for url in [from, to] {
        if !url.starts_with("sqlite:") && !herald::store::is_postgres_url(url) {
            esay!("herald: {}: use sqlite://PATH or postgres://…", redact_password(url));
            return Ok(ExitCode::FAILURE);
        }
    }
    if from == to {
        esay!("herald: --from and --to are the same database");
        return Ok(ExitCode::FAILURE);
    }
    // Opening a SQLite URL creates the file: a mistyped source would copy nothing.
    if let Some(path) = from.strip_prefix("sqlite://").map(|p| p.split('?').next().unwrap_or(p))
        && !std::path::Path::new(path).exists()
    {
        esay!("herald: {path} does not exist");
        return Ok(ExitCode::FAILURE);
    }
    let started = std::time::Instant::now();
    let source = herald::store::Store::open(from).await?;
    let target = herald::store::Store::open(to).await?;
    let report = herald::store::copy_installation(&source, &target).await?;
    source.close().await;
    target.close().await;
    say!(
        "copied {} feeds, {} communities, {} links and {} articles from {} to {} in {:.1} s",
        report.feeds_copied,
        report.communities_copied,
        report.links_copied,
        report.articles_copied,
        redact_password(from),
        redact_password(to),
        started.elapsed().as_secs_f64()
    );
    say!(
        "source / target: feeds {} / {}, communities {} / {}, links {} / {}, articles {} / {}",
        report.feeds.0,
        report.feeds.1,
        report.communities.0,
        report.communities.1,
        report.links.0,
        report.links.1,
        report.articles.0,
        report.articles.1
    );
    for t in &report.tables {
        say!("{}: copied {}, source / target {} / {}", t.table, t.copied, t.source, t.target);
    }
    if !report.verified() {
        esay!("herald: the counts differ: the target held other rows, or the source changed");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn backup_cmd(app: &App, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    if file.exists() {
        esay!("herald: {} exists; give a new file name", file.display());
        return Ok(ExitCode::FAILURE);
    }
    let started = std::time::Instant::now();
    app.store.backup_into(file).await?;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    say!(
        "backed up to {} ({:.1} MB in {:.1} s)",
        file.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// `herald run` with the console, as the operator or as `--as ROLE`.
async fn console_cmd(app: App, role: Option<String>) -> anyhow::Result<ExitCode> {
    let role = match role.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => None,
        Some("member") => Some(herald::commands::parse::Role::Member),
        Some("manager" | "channel-manager") => Some(herald::commands::parse::Role::ChannelManager),
        Some("admin") => Some(herald::commands::parse::Role::Admin),
        Some(other) => {
            esay!("herald: --as {other}: use member, manager or admin");
            return Ok(ExitCode::from(2));
        }
    };
    herald::run::run_console(app, role).await?;
    Ok(ExitCode::SUCCESS)
}

async fn poll_cmd(app: &App, once: bool, feeds: Vec<String>) -> anyhow::Result<ExitCode> {
    for url in feeds {
        let console = app.store.console_community(app.clock.now()).await?;
        let req = AddRequest { community: console, input: &url, interval: None, check: true };
        let added = add_feed(&app.store, &app.fetcher, req, limits(app), app.clock.now()).await;
        match added {
            Ok(a) => say!("following feed #{} {}", a.feed.id, a.feed.url),
            Err(e) => {
                esay!("herald: cannot add feed: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    if app.store.count_feeds().await? == 0 {
        esay!("herald: no feeds yet: `herald poll URL` or `herald feeds add URL` first");
        return Ok(ExitCode::FAILURE);
    }
    if once {
        let r = app.poller.poll_due(256).await?;
        say!(
            "polled {} feed(s): {} new article(s), {} unchanged, {} failed",
            r.polled,
            r.new_articles.len(),
            r.not_modified,
            r.failed
        );
    } else {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = tx.send(true);
        });
        tracing::info!("polling; Ctrl-C stops");
        let (wake, news) = (Default::default(), Default::default());
        app.poller.run(rx, 256, wake, news).await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn search_cmd(app: &App, query: Vec<String>, limit: i64) -> anyhow::Result<()> {
    let query = query.join(" ");
    let hits =
        app.store.search_articles(&query, SearchScope::All, None, limit.clamp(1, 100), 0).await?;
    if hits.is_empty() {
        say!("no articles match \"{query}\"");
    }
    for h in hits {
        say!(
            "#{} {}\n    {}\n    {}\n",
            h.id,
            h.title.as_deref().unwrap_or("(untitled)"),
            h.url.as_deref().unwrap_or("-"),
            h.snippet.replace('\n', " ")
        );
    }
    Ok(())
}

async fn article_cmd(app: &App, id: i64) -> anyhow::Result<ExitCode> {
    match app.store.article(id).await? {
        None => {
            esay!("herald: no article #{id}");
            return Ok(ExitCode::FAILURE);
        }
        Some(a) => {
            let feed = app.store.feed_by_id(a.feed_id).await?;
            say!("#{} {}", a.id, a.title.as_deref().unwrap_or("(untitled)"));
            say!("feed: {}", feed.as_ref().map(|f| f.name()).unwrap_or("?"));
            say!("link: {}", a.url.as_deref().unwrap_or("-"));
            say!("date: {}", when(a.published_at.unwrap_or(a.fetched_at)));
            say!("\n{}", a.summary);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn feeds_cmd(app: &App, cmd: FeedsCmd) -> anyhow::Result<ExitCode> {
    let command = match cmd {
        FeedsCmd::Add(args) => return feeds_add_cmd(app, args).await,
        FeedsCmd::Import { file } => {
            feeds_import_cmd(app, &file).await?;
            return Ok(ExitCode::SUCCESS);
        }
        FeedsCmd::List => CoreCommand::FeedsList,
        FeedsCmd::Remove { feed } => CoreCommand::FeedsRemove { feed: feed_ref(&feed)? },
        FeedsCmd::Pause { feed } => CoreCommand::FeedsPause { feed: feed_ref(&feed)? },
        FeedsCmd::Resume { feed } => CoreCommand::FeedsResume { feed: feed_ref(&feed)? },
        FeedsCmd::Export => CoreCommand::FeedsExport,
    };
    operator_command(app, command).await
}

/// Runs `command` through the command core as the operator, over the whole installation
/// (`Scope::Installation`), and prints its answer: text on stdout, a refusal as an error.
async fn operator_command(app: &App, command: CoreCommand) -> anyhow::Result<ExitCode> {
    let export = matches!(command, CoreCommand::FeedsExport);
    let ctx = run::console_ctx(app, Scope::Installation).await?;
    let core = Core::new(
        app.store.clone(),
        app.fetcher.clone(),
        app.clock.clone(),
        CoreLimits::from_config(&app.config),
        Arc::new(Notify::new()),
        Arc::new(Notify::new()),
    );
    let reply = core.execute(&ctx, command).await;
    if reply.tone == Tone::Error {
        anyhow::bail!("{}", reply.text);
    }
    if export {
        // OPML must reach a file untouched.
        say_raw!("{}", reply.text);
    } else {
        say!("{}", reply.text);
    }
    Ok(ExitCode::SUCCESS)
}

fn feed_ref(reference: &str) -> anyhow::Result<FeedRef> {
    FeedRef::parse(reference).ok_or_else(|| {
        anyhow::anyhow!("no feed \"{reference}\": give its id or URL (see `herald feeds list`)")
    })
}

async fn feeds_add_cmd(app: &App, args: AddArgs) -> anyhow::Result<ExitCode> {
    let AddArgs { url, interval, no_check } = args;
    let now = app.clock.now();
    let interval = match interval {
        Some(i) => Some(parse_duration(&i).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let console = app.store.console_community(now).await?;
    let req = AddRequest { community: console, input: &url, interval, check: !no_check };
    let added = add_feed(&app.store, &app.fetcher, req, limits(app), now).await;
    match added {
        Ok(a) => {
            if let Some(page) = &a.discovered_from {
                say!("{page} is a web page; using the feed it advertises.");
            }
            let verb = if a.created { "added" } else { "already there:" };
            let items = a.items.map(|n| format!(", {n} item(s)")).unwrap_or_default();
            let every = format_duration(Duration::from_secs(a.asked_interval_s as u64));
            let shared = if a.feed.poll_interval_s < a.asked_interval_s {
                let f = format_duration(Duration::from_secs(a.feed.poll_interval_s as u64));
                format!("; fetched every {f} because another community asked for that")
            } else {
                String::new()
            };
            say!("{verb} feed #{} {} (every {every}{items}{shared})", a.feed.id, a.feed.url);
        }
        Err(e) => {
            esay!("herald: cannot add feed: {e}");
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Adds every feed of an OPML file, unchecked (checking hundreds of sites at once would
/// hammer them; the first poll checks each).
async fn feeds_import_cmd(app: &App, file: &std::path::Path) -> anyhow::Result<()> {
    let now = app.clock.now();
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let entries = parse_opml(&bytes).map_err(anyhow::Error::msg)?;
    let console = app.store.console_community(now).await?;
    let bar = indicatif::ProgressBar::new(entries.len() as u64);
    let (mut added, mut existing, mut refused) = (0, 0, Vec::new());
    for entry in &entries {
        let req =
            AddRequest { community: console, input: &entry.url, interval: None, check: false };
        let result = add_feed(&app.store, &app.fetcher, req, limits(app), now).await;
        match result {
            Ok(a) if a.created => added += 1,
            Ok(_) => existing += 1,
            Err(e) => refused.push(format!("{}: {e}", entry.url)),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    say!(
        "imported {} feed(s): {added} added, {existing} already there, {} refused",
        entries.len(),
        refused.len()
    );
    for r in &refused {
        say!("  refused {r}");
    }
    Ok(())
}

fn limits(app: &App) -> IntervalLimits {
    IntervalLimits { default: app.config.poll.default_interval, min: app.config.poll.min_interval }
}

fn when(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ts.to_string())
}

fn read_input(file: Option<&PathBuf>) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    match file {
        Some(p) if p.as_os_str() != "-" => buf = std::fs::read(p)?,
        _ => {
            std::io::stdin().read_to_end(&mut buf)?;
        }
    }
    Ok(buf)
}

fn parse_feed_cmd(file: &PathBuf) -> ExitCode {
    let bytes = match read_input(Some(file)) {
        Ok(b) => b,
        Err(e) => {
            esay!("herald: cannot read {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    match parse_feed(&bytes, None) {
        Ok(feed) => {
            let entries: Vec<serde_json::Value> = feed
                .entries
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "id": e.id,
                        "title": e.title,
                        "link": e.link,
                        "published": e.published.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                    })
                })
                .collect();
            let out = serde_json::json!({"title": feed.title, "entries": entries});
            say_raw!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            esay!("herald: {}: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}

fn extract_cmd(url: Option<&str>, jsonl: bool, file: Option<&PathBuf>) -> ExitCode {
    if jsonl {
        let stdin = std::io::stdin();
        let result = textcli::extract_jsonl(
            BufReader::new(stdin.lock()),
            std::io::stdout().lock(),
            std::io::stderr(),
        );
        return exit_of(result);
    }
    let bytes = match read_input(file) {
        Ok(b) => b,
        Err(e) => {
            esay!("herald: cannot read input: {e}");
            return ExitCode::FAILURE;
        }
    };
    match extract::extract(&herald::ingest::charset::decode_html(&bytes, None), url) {
        Ok(x) => {
            say!("{}", x.text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            esay!("herald: {e}");
            ExitCode::FAILURE
        }
    }
}

fn summarize_cmd(sentences: usize, jsonl: bool, file: Option<&PathBuf>) -> ExitCode {
    if jsonl {
        let stdin = std::io::stdin();
        let result = textcli::summarize_jsonl(
            BufReader::new(stdin.lock()),
            std::io::stdout().lock(),
            std::io::stderr(),
            sentences,
        );
        return exit_of(result);
    }
    let bytes = match read_input(file) {
        Ok(b) => b,
        Err(e) => {
            esay!("herald: cannot read input: {e}");
            return ExitCode::FAILURE;
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut out = std::io::stdout().lock();
    for s in Extractive::default().summarize(None, &text, sentences) {
        let _ = writeln!(out, "{}", herald::platform::console::clean(&s));
    }
    ExitCode::SUCCESS
}

fn exit_of_bench(result: anyhow::Result<()>) -> ExitCode {
    exit_of(result.map(|()| 0).map_err(|e| std::io::Error::other(format!("{e:#}"))))
}

fn exit_of(result: std::io::Result<usize>) -> ExitCode {
    match result {
        Ok(_) => ExitCode::SUCCESS,
        // `| head` closed the pipe: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            esay!("herald: {e}");
            ExitCode::FAILURE
        }
    }
}
