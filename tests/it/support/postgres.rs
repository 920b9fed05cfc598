//! A real PostgreSQL for the tests: one cluster per test binary in a temp dir, on a free
//! loopback port, started with the machine's `initdb`/`pg_ctl` (on PATH, or Debian's
//! `/usr/lib/postgresql/<version>/bin`), as the `postgres` user when the tests run as
//! root (PostgreSQL refuses root). A watchdog stops it and removes the directory when
//! the test process ends, however it ends. Each test takes a fresh database.
//!
//! PostgreSQL missing is a failure, loudly. Only `HERALD_SKIP_POSTGRES=1` skips the tests
//! (for a quick local run), and says so.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct Postgres {
    /// `postgres://herald@127.0.0.1:PORT`, without a database.
    base: String,
}

static SHARED: OnceLock<Option<Postgres>> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// The test binary's cluster, started on first use; `None` only when skipped.
pub fn shared() -> Option<&'static Postgres> {
    if std::env::var("HERALD_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        eprintln!("SKIPPED: HERALD_SKIP_POSTGRES=1, so no PostgreSQL and no PostgreSQL test");
        return None;
    }
    SHARED.get_or_init(|| Some(Postgres::start().unwrap_or_else(|e| panic!("{e}")))).as_ref()
}

impl Postgres {
    fn start() -> Result<Postgres, String> {
        let bin = bin_dir().ok_or(
            "PostgreSQL's initdb is neither on PATH nor in /usr/lib/postgresql/*/bin \
             (install Debian's `postgresql`; HERALD_SKIP_POSTGRES=1 skips these tests)",
        )?;
        let dir = tempfile::Builder::new()
            .prefix("herald-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?
            .keep();
        let as_root = effective_uid() == Some(0);
        if as_root {
            // The cluster's files must belong to the user that runs it.
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !status.success() {
                return Err(format!("cannot give {} to the postgres user", dir.display()));
            }
        }
        let data = dir.join("data");
        run(
            as_root,
            &bin.join("initdb"),
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-U".as_ref(),
                "herald".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-sync".as_ref(),
                "--no-instructions".as_ref(),
            ],
        )?;
        let port = free_port()?;
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            dir.display()
        );
        let log = dir.join("postgres.log");
        run(
            as_root,
            &bin.join("pg_ctl"),
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        )
        .map_err(|e| {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            format!("{e}\n{tail}")
        })?;
        watchdog(&data, &dir);
        Ok(Postgres { base: format!("postgres://herald@127.0.0.1:{port}") })
    }

    /// A new, empty database on the cluster; returns its URL.
    pub async fn fresh_database(&self) -> String {
        let name = format!("t{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed));
        let admin = sqlx::PgPool::connect(&format!("{}/postgres", self.base))
            .await
            .expect("connect to the test cluster");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create a test database");
        admin.close().await;
        format!("{}/{name}", self.base)
    }
}

/// The directory holding `initdb` and `pg_ctl`.
fn bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").is_file() && p.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").is_file())
            .collect();
        versions.sort_by_key(|p| {
            p.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        });
        versions.pop()
    })
}

/// This process's effective user id, from `id -u` (no libc call needed).
fn effective_uid() -> Option<u32> {
    let out = Command::new("id").arg("-u").output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn run(as_root: bool, program: &Path, args: &[&std::ffi::OsStr]) -> Result<(), String> {
    let mut cmd = if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    let out = cmd.args(args).output().map_err(|e| format!("{}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}{}",
            program.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// When this process ends, the postmaster gets an immediate shutdown (SIGQUIT) and the
/// directory goes.
fn watchdog(data: &Path, dir: &Path) {
    let script = format!(
        "while kill -0 {parent} 2>/dev/null; do sleep 1; done
         pid=$(head -n 1 '{data}/postmaster.pid' 2>/dev/null)
         [ -n \"$pid\" ] && kill -QUIT \"$pid\" 2>/dev/null; sleep 2
         [ -n \"$pid\" ] && kill -9 \"$pid\" 2>/dev/null
         rm -rf '{dir}'",
        parent = std::process::id(),
        data = data.display(),
        dir = dir.display()
    );
    let _ = Command::new("setsid")
        .args(["bash", "-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}
