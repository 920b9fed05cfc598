//! `herald bench ...`: speed measured on this machine, reported in the README.

pub mod corpus;
pub mod deliver;
pub mod feeds;
pub mod feeds_expect;
pub mod feeds_legacy;
pub mod hostile;
pub mod poll;
pub mod text;

/// CPU time (user + system) this process has used.
pub fn cpu_time() -> std::time::Duration {
    let (user, system) = cpu_times();
    user + system
}

/// User and system CPU time this process has used, from `getrusage` (whole threads
/// included), not from /proc text whose fields shift with the process's terminal.
pub fn cpu_times() -> (std::time::Duration, std::time::Duration) {
    // SAFETY: getrusage only writes the struct it is given, which is zeroed and ours.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return Default::default();
        }
        usage
    };
    let d = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec.max(0) as u64)
            + std::time::Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    (d(usage.ru_utime), d(usage.ru_stime))
}

/// Peak resident memory of this process in bytes (`VmHWM`), from /proc.
pub fn peak_rss() -> u64 {
    status_kb("VmHWM:") * 1024
}

/// Resident memory of this process now, in bytes.
pub fn rss() -> u64 {
    status_kb("VmRSS:") * 1024
}

/// Starts a new peak: `peak_rss` reports from here on (Linux 4.0+; elsewhere the old
/// peak stays and figures err high, never low).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with(field))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}
