//! The operators' endpoint (`HERALD_HTTP_ADDR`): `/healthz` (the process answers),
//! `/readyz` (200, or 503 with the reasons) and `/metrics` (OpenMetrics text).
//!
//! Deliberately small: GET only, one request per connection, bounded request size and
//! time, so a scraper or a port scanner can hold nothing for long.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::health::Health;

/// Longest request head read.
const MAX_HEAD: usize = 8 * 1024;
/// Time a client has to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The running endpoint; stops when dropped.
pub struct OpsServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for OpsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OpsServer {
    /// Binds `addr` (a bind failure is an error at start-up, not a silent absence).
    pub async fn start(addr: SocketAddr, health: Health) -> std::io::Result<OpsServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        let health = health.clone();
                        tokio::spawn(async move { serve(stream, &health).await });
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!("operators' endpoint: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        tracing::info!(%addr, "serving /healthz, /readyz and /metrics");
        Ok(OpsServer { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

async fn serve(mut stream: TcpStream, health: &Health) {
    let Ok(Some((method, path))) =
        tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await.unwrap_or(Ok(None))
    else {
        return;
    };
    let (status, content_type, body) = if method != "GET" && method != "HEAD" {
        (405, "text/plain; charset=utf-8", "only GET\n".to_string())
    } else {
        match path.split('?').next().unwrap_or_default() {
            "/healthz" => (200, "text/plain; charset=utf-8", "ok\n".to_string()),
            "/readyz" => {
                let problems = health.problems().await;
                if problems.is_empty() {
                    (200, "text/plain; charset=utf-8", "ready\n".to_string())
                } else {
                    (503, "text/plain; charset=utf-8", format!("{}\n", problems.join("\n")))
                }
            }
            "/metrics" => (
                200,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                health.metrics_text().await,
            ),
            _ => (404, "text/plain; charset=utf-8", "try /healthz, /readyz or /metrics\n".into()),
        }
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let mut response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        response.extend_from_slice(body.as_bytes());
    }
    let _ = stream.write_all(&response).await;
    let _ = stream.shutdown().await;
}

/// Reads the request head; returns the method and target.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<(String, String)>> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or_default().split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(m), Some(t)) => Ok(Some((m.to_string(), t.to_string()))),
        _ => Ok(None),
    }
}
