//! Repeated identical warnings, rate-limited: during an outage a thousand channels fail
//! with the same reason every few minutes; the log shows that once a minute per reason,
//! with how many like it were held back, instead of a thousand lines.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// How often one identical warning is written.
const EVERY: Duration = Duration::from_secs(60);
/// Distinct warnings remembered; past it the memory starts over (never grows unbounded).
const MAX_KEYS: usize = 1_000;

static SEEN: LazyLock<Mutex<HashMap<String, (Instant, u64)>>> = LazyLock::new(Mutex::default);

/// Whether a warning with this `key` may be written now; `Some(n)`: yes, and `n` like
/// it were held back since the last one written.
pub fn allow(key: &str) -> Option<u64> {
    let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    if seen.len() >= MAX_KEYS && !seen.contains_key(key) {
        seen.clear();
    }
    match seen.get_mut(key) {
        Some((last, held)) if now.duration_since(*last) < EVERY => {
            *held += 1;
            None
        }
        Some((last, held)) => {
            let n = *held;
            (*last, *held) = (now, 0);
            Some(n)
        }
        None => {
            seen.insert(key.to_string(), (now, 0));
            Some(0)
        }
    }
}

/// `warn!` at most once a minute per distinct `key`, noting how many were held back.
#[macro_export]
macro_rules! warn_throttled {
    ($key:expr, $($arg:tt)+) => {
        if let Some(held) = $crate::service::logs::allow(&$key) {
            if held > 0 {
                tracing::warn!(held_back = held, $($arg)+);
            } else {
                tracing::warn!($($arg)+);
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_warning_is_written_once_then_held_back() {
        assert_eq!(allow("test: one reason"), Some(0));
        assert_eq!(allow("test: one reason"), None);
        assert_eq!(allow("test: one reason"), None);
        assert_eq!(allow("test: another reason"), Some(0));
    }
}
