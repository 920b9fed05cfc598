//! Bounded HTTP fetching: timeouts, redirect limit, a body cap counted after
//! decompression, global and per-host concurrency caps, conditional GET, and the SSRF
//! guard on every hop.

use std::collections::HashMap;
use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, redirect};
use tokio::sync::Semaphore;
use url::Url;

use super::guard::{self, Blocked, DnsFailure, GuardedResolver, Policy};
use crate::config::FetchConfig;

/// What is being fetched: it sets the body cap and the `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchKind {
    Feed,
    Page,
}

/// Cache validators from the previous response.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A response worth reading.
#[derive(Debug, Clone)]
pub struct Body {
    /// Where the body came from, after redirects.
    pub url: Url,
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    pub validators: Validators,
    /// `Cache-Control: max-age`, uncapped (the poller caps it).
    pub max_age: Option<Duration>,
}

#[derive(Debug, Clone)]
pub enum Fetched {
    /// 304: nothing changed since the validators were issued.
    NotModified {
        max_age: Option<Duration>,
    },
    Body(Body),
}

/// Why a fetch failed; [`FetchError::kind`] is the category admins read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Blocked(String),
    #[error("{0}")]
    Dns(String),
    #[error("timed out after {}s", .0.as_secs())]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("HTTP {status}{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    Status { status: StatusCode, retry_after: Option<Duration> },
    #[error("response is larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("bad redirect: {0}")]
    BadRedirect(String),
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// A short, stable category name, stored with the error.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Blocked(_) => "blocked",
            FetchError::Dns(_) => "dns",
            FetchError::Timeout(_) => "timeout",
            FetchError::Connect(_) => "connect",
            FetchError::Status { .. } => "http-status",
            FetchError::TooLarge { .. } => "too-large",
            FetchError::TooManyRedirects(_) | FetchError::BadRedirect(_) => "redirect",
            FetchError::Other(_) => "other",
        }
    }

    /// How long the server asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Shared HTTP client with herald's limits. One per process.
pub struct Fetcher {
    client: reqwest::Client,
    cfg: FetchConfig,
    policy: Policy,
    global: Arc<Semaphore>,
    per_host: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Fetcher {
    pub fn new(cfg: FetchConfig) -> Result<Fetcher, FetchError> {
        let policy = Policy {
            allow_private: cfg.allow_private_networks,
            allowlist: cfg.private_allowlist.clone(),
        };
        let builder = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            // Redirects are followed by hand so that every hop passes the guard.
            .redirect(redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30));
        // The environment's HTTP(S)_PROXY/ALL_PROXY are ignored: a proxy resolves names
        // itself, past the guarded resolver, so one is used only when the operator names
        // it for herald (HERALD_PROXY), and each name is then checked before the request.
        let builder = match &cfg.proxy {
            None => builder
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver { policy: policy.clone() })),
            Some(proxy) => builder.proxy(
                reqwest::Proxy::all(proxy.as_str())
                    .map_err(|e| FetchError::Other(format!("HERALD_PROXY: {e}")))?,
            ),
        };
        let client = builder.build().map_err(|e| FetchError::Other(format!("HTTP client: {e}")))?;
        Ok(Fetcher {
            client,
            policy,
            global: Arc::new(Semaphore::new(cfg.concurrency)),
            per_host: Mutex::new(HashMap::new()),
            cfg,
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.cfg
    }

    fn host_permits(&self, host: &str) -> HostSlot<'_> {
        // A poisoned lock only means another task panicked while inserting; the map is
        // still usable.
        let mut map = self.per_host.lock().unwrap_or_else(|p| p.into_inner());
        let permits = map
            .entry(host.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.cfg.per_host_concurrency)))
            .clone();
        HostSlot { map: &self.per_host, host: host.to_string(), permits }
    }

    /// Hosts with a semaphore in the map (for tests of its clean-up).
    pub fn tracked_hosts(&self) -> usize {
        self.per_host.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Fetches `url`, following up to the configured number of redirects.
    pub async fn fetch(
        &self,
        url: &Url,
        kind: FetchKind,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        let host = url.host_str().unwrap_or_default().to_string();
        let host_permits = self.host_permits(&host);
        // The semaphores are never closed, so acquiring cannot fail.
        let _global = self.global.acquire().await.map_err(|e| FetchError::Other(e.to_string()))?;
        let _host =
            host_permits.permits.acquire().await.map_err(|e| FetchError::Other(e.to_string()))?;
        let limit = match kind {
            FetchKind::Feed => self.cfg.max_feed_bytes,
            FetchKind::Page => self.cfg.max_page_bytes,
        };
        let accept = match kind {
            FetchKind::Feed => {
                "application/rss+xml, application/atom+xml, application/feed+json, \
                 application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
            }
            FetchKind::Page => "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
        };

        let mut current = url.clone();
        for hop in 0..=self.cfg.max_redirects {
            guard::check_url(&current, &self.policy)
                .map_err(|Blocked(m)| FetchError::Blocked(m))?;
            if self.cfg.proxy.is_some()
                && let Some(url::Host::Domain(name)) = current.host()
            {
                guard::check_name_resolves_public(name, &self.policy)
                    .await
                    .map_err(|Blocked(m)| FetchError::Blocked(m))?;
            }
            let mut req = self.client.get(current.clone()).header(header::ACCEPT, accept);
            // Validators belong to the URL that issued them: only on the first hop.
            if hop == 0
                && let Some(v) = validators
            {
                if let Some(etag) = &v.etag {
                    req = req.header(header::IF_NONE_MATCH, etag);
                }
                if let Some(lm) = &v.last_modified {
                    req = req.header(header::IF_MODIFIED_SINCE, lm);
                }
            }
            let resp = req.send().await.map_err(|e| classify(e, self.cfg.request_timeout))?;
            let status = resp.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location =
                    resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(
                        || FetchError::BadRedirect(format!("HTTP {status} without Location")),
                    )?;
                current = current
                    .join(location)
                    .map_err(|e| FetchError::BadRedirect(format!("{location:?}: {e}")))?;
                continue;
            }
            let headers = resp.headers().clone();
            let max_age = cache_max_age(&headers);
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Fetched::NotModified { max_age });
            }
            if !status.is_success() {
                return Err(FetchError::Status { status, retry_after: retry_after(&headers) });
            }
            let bytes = read_capped(resp, limit, self.cfg.request_timeout).await?;
            return Ok(Fetched::Body(Body {
                url: current,
                bytes,
                content_type: header_str(&headers, header::CONTENT_TYPE),
                validators: Validators {
                    etag: header_str(&headers, header::ETAG),
                    last_modified: header_str(&headers, header::LAST_MODIFIED),
                },
                max_age,
            }));
        }
        Err(FetchError::TooManyRedirects(self.cfg.max_redirects))
    }
}

/// A host's semaphore, held for one fetch. The last fetch of a host removes its entry,
/// so the map holds only hosts being fetched now instead of every host ever seen.
struct HostSlot<'a> {
    map: &'a Mutex<HashMap<String, Arc<Semaphore>>>,
    host: String,
    permits: Arc<Semaphore>,
}

impl Drop for HostSlot<'_> {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        // Two references: the map's and this slot's. Any other is a fetch under way
        // (counted under the same lock that hands them out, so none can appear now).
        if Arc::strong_count(&self.permits) == 2 {
            map.remove(&self.host);
        }
    }
}

async fn read_capped(
    resp: reqwest::Response,
    limit: u64,
    timeout: Duration,
) -> Result<Vec<u8>, FetchError> {
    // Content-Length speaks of the encoded body; it can only reject early when the body
    // is not compressed. The real cap is counted on the decoded stream below.
    if resp.headers().get(header::CONTENT_ENCODING).is_none()
        && resp.content_length().is_some_and(|n| n > limit)
    {
        return Err(FetchError::TooLarge { limit });
    }
    let mut buf = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| classify(e, timeout))?;
        if buf.len() as u64 + chunk.len() as u64 > limit {
            return Err(FetchError::TooLarge { limit });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

fn classify(e: reqwest::Error, timeout: Duration) -> FetchError {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(b) = s.downcast_ref::<Blocked>() {
            return FetchError::Blocked(b.0.clone());
        }
        if let Some(d) = s.downcast_ref::<DnsFailure>() {
            return FetchError::Dns(d.to_string());
        }
        source = s.source();
    }
    if e.is_timeout() {
        return FetchError::Timeout(timeout);
    }
    let detail = error_chain(&e);
    if e.is_connect() { FetchError::Connect(detail) } else { FetchError::Other(detail) }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// `Cache-Control: max-age=N` (or `s-maxage`), if the server sent one.
pub fn cache_max_age(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').find_map(|d| {
        let (k, v) = d.trim().split_once('=')?;
        let k = k.trim().to_ascii_lowercase();
        (k == "max-age" || k == "s-maxage")
            .then(|| v.trim().trim_matches('"').parse::<u64>().ok())
            .flatten()
            .map(Duration::from_secs)
    })
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(header::RETRY_AFTER)?, chrono::Utc::now())
}

fn parse_retry_after(value: &HeaderValue, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let secs = (when.with_timezone(&chrono::Utc) - now).num_seconds().max(0);
    Some(Duration::from_secs(secs as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z")
            .expect("literal")
            .with_timezone(&chrono::Utc);
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(parse_retry_after(&v("120"), now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after(&v("Mon, 30 Nov 2026 10:05:00 GMT"), now),
            Some(Duration::from_secs(300))
        );
        assert_eq!(parse_retry_after(&v("soon"), now), None);
    }

    #[test]
    fn max_age_is_read() {
        let mut h = HeaderMap::new();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=600"));
        assert_eq!(cache_max_age(&h), Some(Duration::from_secs(600)));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        assert_eq!(cache_max_age(&h), None);
    }
}
