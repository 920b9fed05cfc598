//! Stopping on the signals service managers send.
//!
//! The first SIGTERM or SIGINT asks herald to stop taking new work and to let the
//! sends in flight finish within `HERALD_SHUTDOWN_GRACE`; whatever is left stays owed
//! in the outbox. A second signal exits at once: the outbox still holds every owed
//! post with its key, so nothing is lost and a resend is deduplicated.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGTERM and SIGINT, listened to from the moment this is built (so a signal during
/// start-up is not the default kill).
pub struct Signals {
    term: Signal,
    int: Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for the next SIGTERM or SIGINT; returns its name and conventional exit code.
    pub async fn recv(&mut self) -> (&'static str, i32) {
        tokio::select! {
            _ = self.term.recv() => ("SIGTERM", 128 + 15),
            _ = self.int.recv() => ("SIGINT", 128 + 2),
        }
    }

    /// After the first signal: a second one ends the process at once.
    pub fn exit_on_second(mut self) {
        tokio::spawn(async move {
            let (name, code) = self.recv().await;
            tracing::warn!("{name} again: exiting now; unsent posts stay owed in the outbox");
            std::process::exit(code);
        });
    }
}
