//! A small HTTP/1.1 server on loopback, used by `herald demo` to serve its sample feed,
//! by `herald bench` as the feeds' origin, and by the tests as a feed server that can
//! misbehave on demand (slow bodies, endless bodies, any status and headers).
//!
//! It is deliberately minimal: any method, keep-alive, fixed or chunked bodies; request
//! bodies (Content-Length only) are handed to the handler, which the fake Discord needs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// The request body (empty without a Content-Length).
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// How the body is sent.
#[derive(Debug, Clone)]
pub enum Body {
    Bytes(Vec<u8>),
    /// `count` chunks, one every `every`.
    Slow {
        chunk: Vec<u8>,
        every: Duration,
        count: usize,
    },
    /// The same chunk until the client hangs up.
    Endless {
        chunk: Vec<u8>,
    },
    /// Nothing at all (not even the status line) for `after`, then `bytes`: a server
    /// that hangs before answering.
    Late {
        after: Duration,
        bytes: Vec<u8>,
    },
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Body::Bytes(body.into()),
        }
    }

    pub fn status(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Body::Bytes(Vec::new()) }
    }

    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same response, sent only after `after` of silence.
    pub fn delayed(mut self, after: Duration) -> Response {
        if let Body::Bytes(bytes) = self.body {
            self.body = Body::Late { after, bytes };
        }
        self
    }
}

pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// A running server; stops when dropped.
pub struct LocalServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl LocalServer {
    /// Binds `addr` (port 0 picks a free port) and serves `handler` until dropped.
    pub async fn start(addr: SocketAddr, handler: Handler) -> std::io::Result<LocalServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, handler.clone()));
            }
        });
        Ok(LocalServer { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const MAX_HEAD: usize = 64 * 1024;
/// Request bodies above this close the connection (the fake Discord's largest payload,
/// a bulk command overwrite, is far smaller).
const MAX_BODY: usize = 16 * 1024 * 1024;

async fn serve_connection(stream: TcpStream, handler: Handler) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let head = loop {
            if let Some(end) = find(&pending, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&pending[..end]).into_owned();
                pending.drain(..end + 4);
                break head;
            }
            if pending.len() > MAX_HEAD {
                return;
            }
            let mut buf = [0u8; 8192];
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        };
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split_whitespace();
        let method = first.next().unwrap_or_default().to_string();
        let target = first.next().unwrap_or("/").to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let mut req = Request { method, target, headers, body: Vec::new() };
        // Read the whole body, so keep-alive stays in step and handlers can see it.
        let body_len: usize =
            req.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        if body_len > MAX_BODY {
            return;
        }
        while pending.len() < body_len {
            let mut buf = [0u8; 8192];
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        }
        req.body = pending.drain(..body_len).collect();
        let close = req.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let resp = handler(&req);
        if write_response(&mut write, &req, resp).await.is_err() || close {
            return;
        }
    }
}

async fn write_response(
    w: &mut tokio::net::tcp::OwnedWriteHalf,
    req: &Request,
    resp: Response,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let head_only = req.method == "HEAD" || resp.status == 304 || resp.status == 204;
    if let Body::Late { after, .. } = &resp.body {
        tokio::time::sleep(*after).await;
    }
    match resp.body {
        Body::Bytes(bytes) | Body::Late { bytes, .. } => {
            if resp.status != 304 && resp.status != 204 {
                head.push_str(&format!("Content-Length: {}\r\n", bytes.len()));
            }
            head.push_str("\r\n");
            let mut out = head.into_bytes();
            if !head_only {
                out.extend_from_slice(&bytes);
            }
            w.write_all(&out).await?;
        }
        Body::Slow { chunk, every, count } => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            w.write_all(head.as_bytes()).await?;
            for _ in 0..count {
                tokio::time::sleep(every).await;
                write_chunk(w, &chunk).await?;
            }
            w.write_all(b"0\r\n\r\n").await?;
        }
        Body::Endless { chunk } => {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            w.write_all(head.as_bytes()).await?;
            loop {
                write_chunk(w, &chunk).await?;
            }
        }
    }
    w.flush().await
}

async fn write_chunk(w: &mut tokio::net::tcp::OwnedWriteHalf, chunk: &[u8]) -> std::io::Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    w.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
    w.write_all(chunk).await?;
    w.write_all(b"\r\n").await
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
