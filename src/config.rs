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
}

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
        CommunityConfig { operators: Vec::new(), max_feeds: 50 }
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
        }
    }
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            default_interval: Duration::from_secs(15 * 60),
            min_interval: Duration::from_secs(60),
            max_failures: 10,
            max_server_delay: Duration::from_secs(6 * 3600),
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
            Some(url) if url.starts_with("sqlite:") => url,
            Some(url) => {
                return Err(ConfigError {
                    var: "DATABASE_URL",
                    message: format!(
                        "\"{url}\" is not supported: use sqlite://PATH (e.g. sqlite://data/herald.db)"
                    ),
                });
            }
            None => format!("sqlite://{}", data_dir.join("herald.db").display()),
        };

        let mut poll = PollConfig::default();
        if let Some(v) = get("HERALD_MIN_POLL_INTERVAL") {
            poll.min_interval = duration("HERALD_MIN_POLL_INTERVAL", &v)?;
            if poll.min_interval < Duration::from_secs(60) {
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
            fetch.per_host_concurrency =
                number("HERALD_PER_HOST_CONCURRENCY", &v, 1, 1024)? as usize;
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
        Ok(Config { data_dir, database_url, poll, fetch, community })
    }
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
        let e = with(&[("HERALD_MAX_FEED_BYTES", "lots")]).unwrap_err();
        assert_eq!(e.var, "HERALD_MAX_FEED_BYTES");
        let e = with(&[("HERALD_OPERATORS", "irc:bob")]).unwrap_err();
        assert_eq!(e.var, "HERALD_OPERATORS");
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
    }
}
