//! `herald status`: what `/readyz` and the key metrics say, as text for a person at a
//! terminal. It reads the database a running herald writes (SQLite allows readers
//! beside the writer), and asks the running process's `/readyz` when
//! `HERALD_HTTP_ADDR` says where it is.

use std::time::Duration;

use crate::app::App;
use crate::domain::units::format_duration;
use crate::store::FeedStatus;

/// The report, and whether everything looked ready.
pub async fn status(app: &App) -> anyhow::Result<(Vec<String>, bool)> {
    let now = app.clock.now();
    let mut lines = Vec::new();
    let mut ready = true;
    let ago = |t: Option<i64>| match t {
        Some(t) => format!("{} ago", format_duration(Duration::from_secs((now - t).max(0) as u64))),
        None => "never".to_string(),
    };
    match app.config.service.http_addr {
        None => lines.push(
            "process:   not asked (set HERALD_HTTP_ADDR to where herald serves /readyz)".into(),
        ),
        Some(addr) => match readyz(addr).await {
            Ok((200, _)) => lines.push(format!("process:   ready (http://{addr}/readyz)")),
            Ok((code, body)) => {
                ready = false;
                lines.push(format!("process:   NOT READY ({code} from http://{addr}/readyz)"));
                lines.extend(body.lines().map(|l| format!("           - {l}")));
            }
            Err(e) => {
                ready = false;
                lines.push(format!("process:   not answering at http://{addr}/readyz ({e})"));
            }
        },
    }
    match app.store.probe_writable(Duration::from_secs(2)).await {
        Ok(()) => lines.push(format!(
            "database:  writable ({})",
            crate::config::redact_password(&app.config.database_url)
        )),
        Err(e) => {
            ready = false;
            lines.push(format!("database:  NOT WRITABLE: {e}"));
        }
    }
    let s = app.store.ops_snapshot(now).await?;
    lines.push(format!(
        "feeds:     {} ok, {} failing, {} paused, {} disabled; last poll {}",
        s.feeds_ok,
        s.feeds_failing,
        s.feeds_paused,
        s.feeds_disabled,
        ago(s.last_poll_at)
    ));
    lines.push(format!(
        "archive:   {} article(s), {:.1} MB",
        s.articles,
        s.archive_bytes as f64 / 1e6
    ));
    let oldest = if s.oldest_owed_age_s > 0 {
        format!(
            ", oldest owed {}",
            format_duration(Duration::from_secs(s.oldest_owed_age_s as u64))
        )
    } else {
        String::new()
    };
    lines.push(format!(
        "outbox:    {} post(s), {} digest(s), {} notice(s) owed{oldest}; last post sent {}",
        s.owed_posts,
        s.owed_digests,
        s.owed_notices,
        ago(s.last_sent_at)
    ));
    // Work shared between processes (several on one PostgreSQL database).
    let sending = app.store.channels_being_sent(now).await?;
    let leases = app.store.leases_held(now).await?;
    let held: Vec<String> = leases
        .iter()
        .map(|l| {
            format!(
                "{} by {} since {}, renewed {}",
                l.name,
                l.holder,
                ago(Some(l.since)),
                ago(Some(l.renewed_at))
            )
        })
        .collect();
    let held = if held.is_empty() { "none held".to_string() } else { held.join("; ") };
    lines.push(format!("work:      {sending} channel(s) being sent now; leases: {held}"));
    let troubled: Vec<_> = app
        .store
        .list_feeds()
        .await?
        .into_iter()
        .filter(|f| matches!(f.status(), FeedStatus::Failing { .. } | FeedStatus::Disabled { .. }))
        .collect();
    for f in troubled.iter().take(10) {
        let what = match f.status() {
            FeedStatus::Disabled { reason } => format!("disabled: {reason}"),
            _ => format!(
                "failing ({}x): {}",
                f.failures,
                f.last_error.as_deref().unwrap_or("unknown error")
            ),
        };
        lines.push(format!("  feed #{} {}: {what}", f.id, f.url));
    }
    if troubled.len() > 10 {
        lines.push(format!("  … and {} more (herald feeds list)", troubled.len() - 10));
    }
    Ok((lines, ready))
}

/// GET /readyz of a running herald: its status code and body.
async fn readyz(addr: std::net::SocketAddr) -> anyhow::Result<(u16, String)> {
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build()?;
    let response = client.get(format!("http://{addr}/readyz")).send().await?;
    let code = response.status().as_u16();
    Ok((code, response.text().await?))
}
