//! The console channel: the terminal as one channel of the console community, with the
//! operator's rights. Posts are recorded by idempotency key before they are printed
//! (the console's own "server-side" record), so a resend after a crash shows nothing
//! twice.

use std::io::Write;
use std::sync::{Arc, Mutex};

use super::console::render;
use super::{Platform, SendError, SendFuture, Sent};
use crate::clock::SharedClock;
use crate::deliver::digest::DigestLimits;

impl DigestLimits {
    /// A terminal scrolls; splitting there would only add noise.
    pub const CONSOLE: DigestLimits = DigestLimits { max_chars: 1_000_000, max_items: 10_000 };
}
use crate::reply::Reply;
use crate::store::Store;

/// The console channel's id within the console platform.
pub const CHANNEL: &str = "main";

/// Where console output goes: stdout in `herald run`, a buffer in tests.
pub type Output = Arc<Mutex<Box<dyn Write + Send>>>;

pub fn stdout() -> Output {
    Arc::new(Mutex::new(Box::new(std::io::stdout())))
}

/// Prints a reply as one block followed by a blank line.
pub fn print(out: &Output, reply: &Reply) {
    // A poisoned lock means a panic mid-print elsewhere; the writer itself is fine.
    let mut w = out.lock().unwrap_or_else(|p| p.into_inner());
    let _ = writeln!(w, "{}\n", render(reply));
    let _ = w.flush();
}

pub struct ConsolePlatform {
    store: Store,
    clock: SharedClock,
    out: Output,
}

impl ConsolePlatform {
    pub fn new(store: Store, clock: SharedClock, out: Output) -> ConsolePlatform {
        ConsolePlatform { store, clock, out }
    }
}

impl Platform for ConsolePlatform {
    fn name(&self) -> &'static str {
        "console"
    }

    fn send<'a>(&'a self, external_id: &'a str, reply: &'a Reply, key: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            let body = render(reply);
            let new = self
                .store
                .record_console_post(key, external_id, &body, self.clock.now())
                .await
                .map_err(|e| SendError::Transient(e.to_string()))?;
            if new {
                print(&self.out, reply);
            }
            Ok(Sent { message_id: Some(key.to_string()) })
        })
    }

    fn digest_limits(&self) -> DigestLimits {
        DigestLimits::CONSOLE
    }
}
