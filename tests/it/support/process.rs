//! `herald` as a child process: started with a clean environment, signalled, waited for.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::fake_discord::{self, FakeDiscord};

pub const BIN: &str = env!("CARGO_BIN_EXE_herald");

/// `herald` on the test's data directory (also its working directory, so no stray
/// `.env` is read), loopback allowed and nothing inherited.
pub fn herald_bare(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HERALD_") {
            cmd.env_remove(&k);
        }
    }
    cmd.env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .env_remove("MATRIX_HOMESERVER")
        .env_remove("DISCORD_TOKEN")
        .env("HERALD_DATA_DIR", dir)
        .env("HERALD_ALLOW_PRIVATE_NETWORKS", "true")
        .env("HERALD_REQUEST_TIMEOUT", "5s")
        .env("HERALD_CONNECT_TIMEOUT", "2s");
    cmd
}

/// [`herald_bare`] with the fake Discord.
pub fn herald(dir: &Path, fake: &FakeDiscord) -> Command {
    let mut cmd = herald_bare(dir);
    cmd.env("DISCORD_TOKEN", fake_discord::TOKEN).env("DISCORD_API_BASE", fake.api_base());
    cmd
}

/// Starts `cmd` as `herald run --no-console`, its standard error into `log`.
pub fn spawn_run(mut cmd: Command, log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("log file");
    cmd.args(["run", "--no-console"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn herald run")
}

pub fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    let r = unsafe { libc::kill(child.id() as i32, sig) };
    assert_eq!(r, 0, "kill failed");
}

/// Waits (without blocking the runtime the fake Discord runs on) for the child to exit.
pub async fn wait_exit(
    child: &mut Child,
    within: Duration,
) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("child status") {
            return (status, started.elapsed());
        }
        if started.elapsed() > within {
            let _ = child.kill();
            panic!("herald did not exit within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn wait_until(what: &str, within: Duration, mut cond: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !cond().await {
        assert!(started.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
