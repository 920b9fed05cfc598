//! Configuration from the environment (and `.env`, loaded by `main`).
//!
//! Every value is parsed here, once, into a typed [`Config`]; a bad value stops start-up
//! with one line naming the variable, so nothing downstream re-validates.

use std::path::PathBuf;
use std::time::Duration;

use crate::domain::units::{parse_duration, parse_size};

/// Everything herald reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub poll: PollConfig,
    pub fetch: FetchConfig,
    pub community: CommunityConfig,
    /// Set when `DISCORD_TOKEN` is: herald then also runs as a Discord bot.
    pub discord: Option<DiscordConfig>,
    /// Set when `MATRIX_HOMESERVER` is: herald then also runs as a Matrix bot.
    pub matrix: Option<MatrixConfig>,
    /// Send timeout and maximum age of posts (`HERALD_SEND_TIMEOUT`,
    /// `HERALD_DELIVERY_MAX_AGE`).
    pub delivery: crate::deliver::outbox::DeliveryPolicy,
    /// How herald runs as a service: shutdown grace, the operators' HTTP endpoint, logs.
    pub service: ServiceConfig,
}

/// `HERALD_SHUTDOWN_GRACE`, `HERALD_HTTP_ADDR`, `HERALD_LOG_FORMAT`, `HERALD_LEADER_TTL`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConfig {
    /// How long sends in flight may take to finish after SIGTERM/SIGINT.
    pub shutdown_grace: Duration,
    /// Where `/healthz`, `/readyz` and `/metrics` are served; off when unset.
    pub http_addr: Option<std::net::SocketAddr>,
    /// Logs as JSON lines (for log shippers) instead of for people.
    pub log_json: bool,
    /// How long a process's hold on one-at-a-time work (the Matrix sync, each Discord
    /// shard) lasts without renewal: after a crash another process takes over within
    /// this time. Renewed every third of it.
    pub leader_ttl: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            shutdown_grace: Duration::from_secs(10),
            http_addr: None,
            log_json: false,
            leader_ttl: Duration::from_secs(30),
        }
    }
}

/// The Matrix bot's settings.
#[derive(Clone)]
pub struct MatrixConfig {
    /// The homeserver's base URL, e.g. `https://matrix.example.org`.
    pub homeserver: String,
    /// The bot's user: `@herald:example.org` or a localpart.
    pub user: String,
    pub auth: MatrixAuth,
    /// What starts a command in a room, e.g. `!herald`.
    pub prefix: String,
    /// Invites are accepted only from these users (`@ann:example.org`) or servers
    /// (`example.org`); empty means from anyone.
    pub invite_allowlist: Vec<String>,
    /// Power level that makes someone a channel manager (admin is the room's
    /// state-changing level).
    pub manager_level: i64,
    /// Encrypts matrix-sdk's SQLite store (keys, state) at rest.
    pub store_passphrase: Option<String>,
}

/// How the Matrix bot logs in.
#[derive(Clone)]
pub enum MatrixAuth {
    Password(String),
    AccessToken(String),
}

// Passwords and tokens are secrets: never print them.
impl std::fmt::Debug for MatrixConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let auth = match self.auth {
            MatrixAuth::Password(_) => "password <redacted>",
            MatrixAuth::AccessToken(_) => "access token <redacted>",
        };
        f.debug_struct("MatrixConfig")
            .field("homeserver", &self.homeserver)
            .field("user", &self.user)
            .field("auth", &auth)
            .field("prefix", &self.prefix)
            .field("invite_allowlist", &self.invite_allowlist)
            .field("manager_level", &self.manager_level)
            .finish()
    }
}

/// The Discord bot's settings.
#[derive(Clone)]
pub struct DiscordConfig {
    pub token: String,
    /// Register slash commands in this guild only (instant updates while testing)
    /// instead of globally.
    pub dev_guild: Option<u64>,
    /// A REST base (`http://127.0.0.1:PORT`) replacing discord.com, for tests against a
    /// fake. Also turns off serenity's rate limiter, which would bypass it.
    pub api_base: Option<String>,
    /// The gateway shards this process runs (`HERALD_DISCORD_SHARDS`, e.g. `0-1/4`):
    /// processes sharing a PostgreSQL database split the shards between them.
    pub shards: crate::platform::discord::shards::Shards,
}

// The token is a secret: never print it (Config is logged with {:?} on errors).
impl std::fmt::Debug for DiscordConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordConfig")
            .field("token", &"<redacted>")
            .field("dev_guild", &self.dev_guild)
            .field("api_base", &self.api_base)
            .field("shards", &self.shards)
            .finish()
    }
}

/// The poll interval a feed gets when none is asked for (`HERALD_POLL_INTERVAL`).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// The lowest poll interval anyone may set, operator included: faster polling is rude
/// to publishers.
pub const POLL_INTERVAL_FLOOR: Duration = Duration::from_secs(60);
/// The highest poll interval a command accepts; beyond a week a feed is effectively dead.
pub const POLL_INTERVAL_CEILING: Duration = Duration::from_secs(7 * 24 * 3600);
/// Feeds one community may follow (`HERALD_MAX_FEEDS_PER_COMMUNITY`).
pub const DEFAULT_MAX_FEEDS: i64 = 50;

/// Who may manage every community, and what each community may do.
#[derive(Debug, Clone)]
pub struct CommunityConfig {
    /// `(platform, user id)` pairs, e.g. `("discord", "80351110224678912")`. The console's
    /// user is always an operator.
    pub operators: Vec<(String, String)>,
    pub max_feeds: i64,
}

impl Default for CommunityConfig {
    fn default() -> Self {
        CommunityConfig { operators: Vec::new(), max_feeds: DEFAULT_MAX_FEEDS }
    }
}

impl CommunityConfig {
    pub fn is_operator(&self, platform: &str, user: &str) -> bool {
        self.operators.iter().any(|(p, u)| p == platform && u == user)
    }
}

/// How often feeds are polled and when they give up.
#[derive(Debug, Clone)]
pub struct PollConfig {
    pub default_interval: Duration,
    pub min_interval: Duration,
    /// Consecutive failures after which a feed is disabled.
    pub max_failures: u32,
    /// Upper bound for a server's `Cache-Control: max-age` or `Retry-After`.
    pub max_server_delay: Duration,
    /// Time one feed's poll may spend on its new items' pages; items whose page is not
    /// in by then keep the feed's own text.
    pub page_budget: Duration,
    /// New items one poll takes (each may fetch a page); the rest wait for the next poll.
    pub max_new_per_poll: usize,
    /// Articles older than this (by when herald found them) are deleted; `None` keeps all.
    pub retention: Option<Duration>,
    /// Articles kept per feed, newest first; `None` keeps all.
    pub max_articles_per_feed: Option<i64>,
}

/// Limits on every HTTP fetch.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub user_agent: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_redirects: usize,
    pub max_feed_bytes: u64,
    pub max_page_bytes: u64,
    pub concurrency: usize,
    pub per_host_concurrency: usize,
    pub allow_private_networks: bool,
    /// Private addresses allowed even when private networks are not (e.g. one intranet host).
    pub private_allowlist: Vec<std::net::IpAddr>,
    /// The only proxy herald uses (`HERALD_PROXY`); the environment's `HTTP_PROXY` and
    /// friends are ignored, because a proxy resolves names past the SSRF guard.
    pub proxy: Option<String>,
}

/// A variable that holds a value herald cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: concat!(
                "herald/",
                env!("CARGO_PKG_VERSION"),
                " (feed reader bot; +https://crates.io/crates/herald)"
            )
            .to_string(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_redirects: 5,
            max_feed_bytes: 5_000_000,
            max_page_bytes: 10_000_000,
            concurrency: 32,
            per_host_concurrency: 2,
            allow_private_networks: false,
            private_allowlist: Vec::new(),
            proxy: None,
        }
    }
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            default_interval: DEFAULT_POLL_INTERVAL,
            min_interval: POLL_INTERVAL_FLOOR,
            max_failures: 10,
            max_server_delay: Duration::from_secs(6 * 3600),
            page_budget: Duration::from_secs(60),
            max_new_per_poll: 25,
            retention: Some(Duration::from_secs(365 * 24 * 3600)),
            max_articles_per_feed: Some(5_000),
        }
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |var: &'static str| lookup(var).filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(get("HERALD_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = match get("DATABASE_URL") {
            Some(url) if url.starts_with("sqlite:") || crate::store::is_postgres_url(&url) => url,
            Some(url) => {
                return Err(ConfigError {
                    var: "DATABASE_URL",
                    message: format!(
                        "\"{}\" is not supported: use sqlite://PATH (e.g. sqlite://data/herald.db) \
                         or postgres://USER@HOST/DATABASE",
                        redact_password(&url)
                    ),
                });
            }
            None => format!("sqlite://{}", data_dir.join("herald.db").display()),
        };

        let poll = poll_config(&get)?;
        let fetch = fetch_config(&get)?;
        let community = community_config(&get)?;
        let discord = discord_config(&get)?;
        let matrix = matrix_config(&get)?;
        let delivery = delivery_policy(&get)?;
        let service = service_config(&get)?;
        Ok(Config {
            data_dir,
            database_url,
            poll,
            fetch,
            community,
            discord,
            matrix,
            delivery,
            service,
        })
    }
}

fn service_config(
    get: &dyn Fn(&'static str) -> Option<String>,
) -> Result<ServiceConfig, ConfigError> {
    let mut service = ServiceConfig::default();
    if let Some(v) = get("HERALD_SHUTDOWN_GRACE") {
        service.shutdown_grace = duration("HERALD_SHUTDOWN_GRACE", &v)?;
    }
    if let Some(v) = get("HERALD_LEADER_TTL") {
        service.leader_ttl = duration("HERALD_LEADER_TTL", &v)?;
        if !(3..=3600).contains(&service.leader_ttl.as_secs()) {
            return Err(ConfigError {
                var: "HERALD_LEADER_TTL",
                message: format!("\"{v}\" is out of range: between 3s and 1h"),
            });
        }
    }
    if let Some(v) = get("HERALD_HTTP_ADDR").filter(|v| !v.trim().is_empty()) {
        service.http_addr = Some(v.trim().parse().map_err(|_| ConfigError {
            var: "HERALD_HTTP_ADDR",
            message: format!("\"{v}\" is not an address and port (e.g. 127.0.0.1:9184)"),
        })?);
    }
    if let Some(v) = get("HERALD_LOG_FORMAT") {
        service.log_json = match v.trim().to_ascii_lowercase().as_str() {
            "json" => true,
            "" | "text" | "human" => false,
            _ => {
                return Err(ConfigError {
                    var: "HERALD_LOG_FORMAT",
                    message: format!("\"{v}\" is not a log format: use json or text"),
                });
            }
        };
    }
    Ok(service)
}

/// `HERALD_SEND_TIMEOUT` (one platform call) and `HERALD_DELIVERY_MAX_AGE` (how long
/// an undelivered post is retried before it is given up and the managers are told).
fn delivery_policy(
    get: &dyn Fn(&'static str) -> Option<String>,
) -> Result<crate::deliver::outbox::DeliveryPolicy, ConfigError> {
    let mut policy = crate::deliver::outbox::DeliveryPolicy::default();
    if let Some(v) = get("HERALD_SEND_TIMEOUT") {
        policy.send_timeout = duration("HERALD_SEND_TIMEOUT", &v)?;
        if policy.send_timeout < Duration::from_secs(1) {
            return Err(ConfigError {
                var: "HERALD_SEND_TIMEOUT",
                message: format!("\"{v}\" is too short: at least 1s (e.g. 30s)"),
            });
        }
    }
    if let Some(v) = get("HERALD_DELIVERY_MAX_AGE") {
        policy.max_age = duration("HERALD_DELIVERY_MAX_AGE", &v)?;
        if policy.max_age < Duration::from_secs(600) {
            return Err(ConfigError {
                var: "HERALD_DELIVERY_MAX_AGE",
                message: format!("\"{v}\" is too short: at least 10m (e.g. 3d)"),
            });
        }
    }
    Ok(policy)
}

fn poll_config(get: &impl Fn(&'static str) -> Option<String>) -> Result<PollConfig, ConfigError> {
    let mut poll = PollConfig::default();
    if let Some(v) = get("HERALD_MIN_POLL_INTERVAL") {
        poll.min_interval = duration("HERALD_MIN_POLL_INTERVAL", &v)?;
        if poll.min_interval < POLL_INTERVAL_FLOOR {
            return Err(ConfigError {
                var: "HERALD_MIN_POLL_INTERVAL",
                message: format!("\"{v}\" is below the 1m floor"),
            });
        }
    }
    if let Some(v) = get("HERALD_POLL_INTERVAL") {
        poll.default_interval = duration("HERALD_POLL_INTERVAL", &v)?;
    }
    if poll.default_interval < poll.min_interval {
        return Err(ConfigError {
            var: "HERALD_POLL_INTERVAL",
            message: format!(
                "{}s is below the minimum poll interval ({}s)",
                poll.default_interval.as_secs(),
                poll.min_interval.as_secs()
            ),
        });
    }
    if let Some(v) = get("HERALD_MAX_FAILURES") {
        poll.max_failures = number("HERALD_MAX_FAILURES", &v, 1, 1000)? as u32;
    }
    if let Some(v) = get("HERALD_MAX_SERVER_DELAY") {
        poll.max_server_delay = duration("HERALD_MAX_SERVER_DELAY", &v)?;
    }

    if let Some(v) = get("HERALD_FEED_PAGE_BUDGET") {
        poll.page_budget = duration("HERALD_FEED_PAGE_BUDGET", &v)?;
    }
    if let Some(v) = get("HERALD_MAX_NEW_ITEMS_PER_POLL") {
        poll.max_new_per_poll = number("HERALD_MAX_NEW_ITEMS_PER_POLL", &v, 1, 1000)? as usize;
    }
    if let Some(v) = get("HERALD_RETENTION") {
        poll.retention = match v.trim() {
            "off" | "0" => None,
            _ => {
                let age = duration("HERALD_RETENTION", &v)?;
                if age < Duration::from_secs(24 * 3600) {
                    return Err(ConfigError {
                        var: "HERALD_RETENTION",
                        message: format!("\"{v}\" is under a day; give e.g. 180d, or off"),
                    });
                }
                Some(age)
            }
        };
    }
    if let Some(v) = get("HERALD_MAX_ARTICLES_PER_FEED") {
        poll.max_articles_per_feed = match v.trim() {
            "off" | "0" => None,
            _ => Some(number("HERALD_MAX_ARTICLES_PER_FEED", &v, 10, 10_000_000)? as i64),
        };
    }
    Ok(poll)
}

fn fetch_config(get: &impl Fn(&'static str) -> Option<String>) -> Result<FetchConfig, ConfigError> {
    let mut fetch = FetchConfig::default();
    if let Some(v) = get("HERALD_USER_AGENT") {
        fetch.user_agent = v;
    }
    if let Some(v) = get("HERALD_CONNECT_TIMEOUT") {
        fetch.connect_timeout = duration("HERALD_CONNECT_TIMEOUT", &v)?;
    }
    if let Some(v) = get("HERALD_REQUEST_TIMEOUT") {
        fetch.request_timeout = duration("HERALD_REQUEST_TIMEOUT", &v)?;
    }
    if let Some(v) = get("HERALD_MAX_REDIRECTS") {
        fetch.max_redirects = number("HERALD_MAX_REDIRECTS", &v, 0, 20)? as usize;
    }
    if let Some(v) = get("HERALD_MAX_FEED_BYTES") {
        fetch.max_feed_bytes = size("HERALD_MAX_FEED_BYTES", &v)?;
    }
    if let Some(v) = get("HERALD_MAX_PAGE_BYTES") {
        fetch.max_page_bytes = size("HERALD_MAX_PAGE_BYTES", &v)?;
    }
    if let Some(v) = get("HERALD_CONCURRENCY") {
        fetch.concurrency = number("HERALD_CONCURRENCY", &v, 1, 4096)? as usize;
    }
    if let Some(v) = get("HERALD_PER_HOST_CONCURRENCY") {
        fetch.per_host_concurrency = number("HERALD_PER_HOST_CONCURRENCY", &v, 1, 1024)? as usize;
    }
    if let Some(v) = get("HERALD_ALLOW_PRIVATE_NETWORKS") {
        fetch.allow_private_networks = boolean("HERALD_ALLOW_PRIVATE_NETWORKS", &v)?;
    }
    if let Some(v) = get("HERALD_PRIVATE_ALLOWLIST") {
        fetch.private_allowlist = v
            .split(',')
            .map(|a| {
                a.trim().parse().map_err(|_| ConfigError {
                    var: "HERALD_PRIVATE_ALLOWLIST",
                    message: format!("\"{}\" is not an IP address", a.trim()),
                })
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(v) = get("HERALD_PROXY") {
        let ok = url::Url::parse(v.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            return Err(ConfigError {
                var: "HERALD_PROXY",
                message: format!(
                    "\"{v}\" is not an http(s) proxy URL (e.g. http://proxy.internal:3128)"
                ),
            });
        }
        fetch.proxy = Some(v.trim().to_string());
    }
    Ok(fetch)
}

fn community_config(
    get: &impl Fn(&'static str) -> Option<String>,
) -> Result<CommunityConfig, ConfigError> {
    let mut community = CommunityConfig::default();
    if let Some(v) = get("HERALD_OPERATORS") {
        for entry in v.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match entry.split_once(':') {
                Some((p @ ("discord" | "matrix"), user)) if !user.is_empty() => {
                    community.operators.push((p.to_string(), user.to_string()));
                }
                _ => {
                    return Err(ConfigError {
                        var: "HERALD_OPERATORS",
                        message: format!(
                            "\"{entry}\" is not PLATFORM:USER (e.g. discord:80351110224678912 or matrix:@ann:example.org)"
                        ),
                    });
                }
            }
        }
    }
    if let Some(v) = get("HERALD_MAX_FEEDS_PER_COMMUNITY") {
        community.max_feeds = number("HERALD_MAX_FEEDS_PER_COMMUNITY", &v, 1, 100_000)? as i64;
    }
    Ok(community)
}

fn discord_config(
    get: &impl Fn(&'static str) -> Option<String>,
) -> Result<Option<DiscordConfig>, ConfigError> {
    Ok(match get("DISCORD_TOKEN") {
        None => None,
        Some(token) => {
            let token = token.trim().to_string();
            if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(ConfigError {
                    var: "DISCORD_TOKEN",
                    message: "contains spaces; give the bot token alone, without \"Bot \"".into(),
                });
            }
            let dev_guild = match get("DISCORD_DEV_GUILD") {
                None => None,
                Some(v) => Some(match v.trim().parse::<u64>() {
                    Ok(id) if id > 0 => id,
                    _ => {
                        return Err(ConfigError {
                            var: "DISCORD_DEV_GUILD",
                            message: format!("\"{v}\" is not a guild id (a number)"),
                        });
                    }
                }),
            };
            let api_base = match get("DISCORD_API_BASE") {
                None => None,
                Some(v) => {
                    let base = v.trim().trim_end_matches('/').to_string();
                    if url::Url::parse(&base)
                        .map(|u| !matches!(u.scheme(), "http" | "https"))
                        .unwrap_or(true)
                    {
                        return Err(ConfigError {
                            var: "DISCORD_API_BASE",
                            message: format!(
                                "\"{v}\" is not an http(s) URL (e.g. http://127.0.0.1:8080)"
                            ),
                        });
                    }
                    Some(base)
                }
            };
            let shards = match get("HERALD_DISCORD_SHARDS") {
                None => Default::default(),
                Some(v) => v
                    .parse()
                    .map_err(|message| ConfigError { var: "HERALD_DISCORD_SHARDS", message })?,
            };
            Some(DiscordConfig { token, dev_guild, api_base, shards })
        }
    })
}

/// The `MATRIX_*` variables; `None` unless `MATRIX_HOMESERVER` is set.
fn matrix_config(
    get: &impl Fn(&'static str) -> Option<String>,
) -> Result<Option<MatrixConfig>, ConfigError> {
    let err = |var: &'static str, message: String| ConfigError { var, message };
    let Some(hs) = get("MATRIX_HOMESERVER") else {
        if get("MATRIX_USER").is_some() {
            return Err(err("MATRIX_HOMESERVER", "is needed when MATRIX_USER is set".into()));
        }
        return Ok(None);
    };
    let homeserver = hs.trim().trim_end_matches('/').to_string();
    if url::Url::parse(&homeserver).map(|u| !matches!(u.scheme(), "http" | "https")).unwrap_or(true)
    {
        return Err(err(
            "MATRIX_HOMESERVER",
            format!("\"{hs}\" is not an http(s) URL (e.g. https://matrix.example.org)"),
        ));
    }
    let user = get("MATRIX_USER").map(|u| u.trim().to_string()).ok_or_else(|| {
        err("MATRIX_USER", "is needed: the bot's user, e.g. @herald:example.org".into())
    })?;
    let valid_user = match user.strip_prefix('@') {
        Some(rest) => rest.split_once(':').is_some_and(|(l, s)| !l.is_empty() && !s.is_empty()),
        None => !user.is_empty() && !user.contains(':'),
    };
    if !valid_user || user.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err(
            "MATRIX_USER",
            format!("\"{user}\" is not a Matrix user id (@herald:example.org) or a localpart"),
        ));
    }
    let auth = match (get("MATRIX_ACCESS_TOKEN"), get("MATRIX_PASSWORD")) {
        (Some(token), _) => MatrixAuth::AccessToken(token.trim().to_string()),
        (None, Some(password)) => MatrixAuth::Password(password),
        (None, None) => {
            return Err(err(
                "MATRIX_PASSWORD",
                "is needed (or MATRIX_ACCESS_TOKEN) to log in to Matrix".into(),
            ));
        }
    };
    let prefix = get("MATRIX_PREFIX").map(|p| p.trim().to_string()).unwrap_or("!herald".into());
    if prefix.is_empty() || prefix.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err("MATRIX_PREFIX", format!("\"{prefix}\" must be one word, e.g. !herald")));
    }
    let mut invite_allowlist = Vec::new();
    for entry in get("MATRIX_INVITE_ALLOWLIST").unwrap_or_default().split(',').map(str::trim) {
        if entry.is_empty() {
            continue;
        }
        let ok = match entry.strip_prefix('@') {
            Some(rest) => rest.split_once(':').is_some_and(|(l, s)| !l.is_empty() && !s.is_empty()),
            None => !entry.starts_with(':') && !entry.contains(char::is_whitespace),
        };
        if !ok {
            return Err(err(
                "MATRIX_INVITE_ALLOWLIST",
                format!(
                    "\"{entry}\" is neither a user (@ann:example.org) nor a server (example.org)"
                ),
            ));
        }
        invite_allowlist.push(entry.to_string());
    }
    let manager_level = match get("MATRIX_MANAGER_LEVEL") {
        None => 50,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if (-(1 << 53)..(1 << 53)).contains(&n) => n,
            _ => {
                return Err(err(
                    "MATRIX_MANAGER_LEVEL",
                    format!("\"{v}\" is not a power level (e.g. 50)"),
                ));
            }
        },
    };
    let store_passphrase = get("MATRIX_STORE_PASSPHRASE");
    Ok(Some(MatrixConfig {
        homeserver,
        user,
        auth,
        prefix,
        invite_allowlist,
        manager_level,
        store_passphrase,
    }))
}

fn duration(var: &'static str, value: &str) -> Result<Duration, ConfigError> {
    parse_duration(value).map_err(|message| ConfigError { var, message })
}

fn size(var: &'static str, value: &str) -> Result<u64, ConfigError> {
    parse_size(value).map_err(|message| ConfigError { var, message })
}

fn number(var: &'static str, value: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    match value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError {
            var,
            message: format!("\"{value}\" is not a whole number from {min} to {max}"),
        }),
    }
}

fn boolean(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError { var, message: format!("\"{value}\" is not true or false") }),
    }
}

/// A database URL fit to print: a password in it (`postgres://user:secret@host/db`)
/// becomes `***`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    // The user info ends at the last '@' before the path: a password may contain '@'.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return url.to_string() };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(move |name| {
            pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn postgres_urls_select_postgres_and_print_without_password() {
        for url in ["postgres://herald@db/herald", "postgresql://h:pw@10.0.0.2:5433/herald"] {
            assert_eq!(with(&[("DATABASE_URL", url)]).expect(url).database_url, url);
        }
        assert_eq!(
            redact_password("postgresql://h:p@ss@10.0.0.2:5433/herald"),
            "postgresql://h:***@10.0.0.2:5433/herald"
        );
        assert_eq!(redact_password("postgres://herald@db/x"), "postgres://herald@db/x");
        assert_eq!(redact_password("sqlite://data/a@b.db"), "sqlite://data/a@b.db");
    }

    #[test]
    fn defaults_need_nothing() {
        let c = with(&[]).expect("defaults are valid");
        assert_eq!(c.database_url, "sqlite://data/herald.db");
        assert_eq!(c.poll.default_interval, Duration::from_secs(900));
        assert!(!c.fetch.allow_private_networks);
        assert_eq!(c.fetch.max_feed_bytes, 5_000_000);
    }

    #[test]
    fn bad_values_name_their_variable() {
        let e = with(&[("HERALD_POLL_INTERVAL", "soon")]).unwrap_err();
        assert_eq!(e.var, "HERALD_POLL_INTERVAL");
        assert!(e.to_string().starts_with("HERALD_POLL_INTERVAL: "), "{e}");
        let e = with(&[("HERALD_ALLOW_PRIVATE_NETWORKS", "maybe")]).unwrap_err();
        assert_eq!(e.var, "HERALD_ALLOW_PRIVATE_NETWORKS");
        let e = with(&[("HERALD_POLL_INTERVAL", "30s")]).unwrap_err();
        assert!(e.to_string().contains("below the minimum"), "{e}");
        let e = with(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(e.var, "DATABASE_URL");
        let e = with(&[("DATABASE_URL", "mysql://u:hunter2@h/x")]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "the password is not echoed: {e}");
        let e = with(&[("HERALD_MAX_FEED_BYTES", "lots")]).unwrap_err();
        assert_eq!(e.var, "HERALD_MAX_FEED_BYTES");
        let e = with(&[("HERALD_OPERATORS", "irc:bob")]).unwrap_err();
        assert_eq!(e.var, "HERALD_OPERATORS");
        let e = with(&[("DISCORD_TOKEN", "t"), ("DISCORD_DEV_GUILD", "mine")]).unwrap_err();
        assert_eq!(e.var, "DISCORD_DEV_GUILD");
        let e = with(&[("DISCORD_TOKEN", "t"), ("DISCORD_API_BASE", "ftp://x")]).unwrap_err();
        assert_eq!(e.var, "DISCORD_API_BASE");
        let e = with(&[("DISCORD_TOKEN", "Bot abc")]).unwrap_err();
        assert_eq!(e.var, "DISCORD_TOKEN");
        let hs = ("MATRIX_HOMESERVER", "http://127.0.0.1:8008");
        let e = with(&[("MATRIX_USER", "@h:x")]).unwrap_err();
        assert_eq!(e.var, "MATRIX_HOMESERVER");
        let e = with(&[("MATRIX_HOMESERVER", "matrix.org"), ("MATRIX_USER", "h")]).unwrap_err();
        assert_eq!(e.var, "MATRIX_HOMESERVER");
        let e = with(&[hs, ("MATRIX_USER", "@h"), ("MATRIX_PASSWORD", "p")]).unwrap_err();
        assert_eq!(e.var, "MATRIX_USER");
        let e = with(&[hs, ("MATRIX_USER", "@h:x")]).unwrap_err();
        assert_eq!(e.var, "MATRIX_PASSWORD");
        let ok = [hs, ("MATRIX_USER", "@h:x"), ("MATRIX_PASSWORD", "p")];
        let e = with(&[&ok[..], &[("MATRIX_PREFIX", "! herald")]].concat()).unwrap_err();
        assert_eq!(e.var, "MATRIX_PREFIX");
        let e = with(&[&ok[..], &[("MATRIX_INVITE_ALLOWLIST", "@ann")]].concat()).unwrap_err();
        assert_eq!(e.var, "MATRIX_INVITE_ALLOWLIST");
        let e = with(&[&ok[..], &[("MATRIX_MANAGER_LEVEL", "mods")]].concat()).unwrap_err();
        assert_eq!(e.var, "MATRIX_MANAGER_LEVEL");
        let m = with(&[&ok[..], &[("MATRIX_INVITE_ALLOWLIST", "@ann:x, example.org")]].concat())
            .expect("valid")
            .matrix
            .expect("matrix configured");
        assert_eq!((m.prefix.as_str(), m.manager_level), ("!herald", 50));
        assert_eq!(m.invite_allowlist, ["@ann:x", "example.org"]);
        assert!(!format!("{m:?}").contains("\"p\""), "the password is never printed");
    }

    #[test]
    fn delivery_settings_parse_and_refuse_nonsense() {
        let c = with(&[]).expect("defaults");
        assert_eq!(c.delivery.max_age, Duration::from_secs(3 * 86_400));
        assert_eq!(c.delivery.send_timeout, Duration::from_secs(30));
        let c = with(&[("HERALD_DELIVERY_MAX_AGE", "12h"), ("HERALD_SEND_TIMEOUT", "10s")])
            .expect("valid");
        assert_eq!(c.delivery.max_age, Duration::from_secs(12 * 3600));
        assert_eq!(c.delivery.send_timeout, Duration::from_secs(10));
        let e = with(&[("HERALD_DELIVERY_MAX_AGE", "1m")]).unwrap_err();
        assert_eq!(e.var, "HERALD_DELIVERY_MAX_AGE");
        let e = with(&[("HERALD_SEND_TIMEOUT", "0")]).unwrap_err();
        assert_eq!(e.var, "HERALD_SEND_TIMEOUT");
        let e = with(&[("HERALD_SEND_TIMEOUT", "forever")]).unwrap_err();
        assert_eq!(e.var, "HERALD_SEND_TIMEOUT");
    }

    #[test]
    fn values_parse() {
        let c = with(&[
            ("HERALD_POLL_INTERVAL", "30m"),
            ("HERALD_MAX_PAGE_BYTES", "2MB"),
            ("HERALD_ALLOW_PRIVATE_NETWORKS", "true"),
            ("HERALD_DATA_DIR", "/tmp/h"),
            ("HERALD_OPERATORS", "discord:42, matrix:@ann:example.org"),
        ])
        .expect("valid");
        assert!(c.community.is_operator("matrix", "@ann:example.org"));
        assert!(!c.community.is_operator("discord", "@ann:example.org"));
        assert_eq!(c.poll.default_interval, Duration::from_secs(1800));
        assert_eq!(c.fetch.max_page_bytes, 2_000_000);
        assert!(c.fetch.allow_private_networks);
        assert_eq!(c.database_url, "sqlite:///tmp/h/herald.db");
        assert!(c.discord.is_none());
        let c = with(&[
            ("DISCORD_TOKEN", "abc.def"),
            ("DISCORD_DEV_GUILD", "42"),
            ("DISCORD_API_BASE", "http://127.0.0.1:9/"),
        ])
        .expect("valid");
        let d = c.discord.expect("discord configured");
        assert_eq!((d.dev_guild, d.api_base.as_deref()), (Some(42), Some("http://127.0.0.1:9")));
        assert!(!format!("{d:?}").contains("abc.def"), "the token is never printed");
        assert_eq!(d.shards, Default::default(), "one process runs the one shard by default");
        let c = with(&[("DISCORD_TOKEN", "t"), ("HERALD_DISCORD_SHARDS", "2-3/4")]).expect("valid");
        assert_eq!(c.discord.expect("discord").shards.to_string(), "2-3/4");
        let e = with(&[("DISCORD_TOKEN", "t"), ("HERALD_DISCORD_SHARDS", "4/4")]).unwrap_err();
        assert_eq!(e.var, "HERALD_DISCORD_SHARDS");
    }

    #[test]
    fn service_settings_parse_and_refuse_nonsense() {
        let c = with(&[]).expect("valid");
        assert_eq!(c.service, ServiceConfig::default());
        assert_eq!(c.service.shutdown_grace, Duration::from_secs(10));
        let c = with(&[
            ("HERALD_SHUTDOWN_GRACE", "3s"),
            ("HERALD_HTTP_ADDR", "127.0.0.1:9184"),
            ("HERALD_LOG_FORMAT", "JSON"),
        ])
        .expect("valid");
        assert_eq!(c.service.shutdown_grace, Duration::from_secs(3));
        assert_eq!(c.service.http_addr, Some("127.0.0.1:9184".parse().expect("addr")));
        assert!(c.service.log_json);
        assert_eq!(with(&[("HERALD_HTTP_ADDR", "localhost")]).unwrap_err().var, "HERALD_HTTP_ADDR");
        assert_eq!(with(&[("HERALD_LOG_FORMAT", "xml")]).unwrap_err().var, "HERALD_LOG_FORMAT");
        assert_eq!(
            with(&[("HERALD_SHUTDOWN_GRACE", "soon")]).unwrap_err().var,
            "HERALD_SHUTDOWN_GRACE"
        );
    }
}
