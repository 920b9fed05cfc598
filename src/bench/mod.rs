//! `herald bench ...`: speed measured on this machine, reported in the README.

pub mod deliver;
pub mod feeds;
pub mod feeds_expect;
pub mod feeds_legacy;
pub mod poll;
pub mod text;

/// CPU time (user + system) this process has used, from /proc.
pub fn cpu_time() -> std::time::Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>().join(" ");
            let f: Vec<u64> = rest.split(' ').filter_map(|x| x.parse().ok()).collect();
            // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the state.
            Some(f.get(10)? + f.get(11)?)
        })
        .unwrap_or(0);
    // Linux reports in clock ticks of 1/100 s on every architecture herald runs on.
    std::time::Duration::from_millis(ticks * 10)
}

/// Peak resident memory of this process in bytes, from /proc.
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb * 1024)
        })
        .unwrap_or(0)
}
