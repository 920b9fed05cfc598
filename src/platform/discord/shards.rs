//! Which gateway shards this process runs (`HERALD_DISCORD_SHARDS`).
//!
//! Discord sends a guild's events to shard `(guild_id >> 22) % total`, so processes that
//! split the shards between them each answer the interactions of their own guilds.
//! Posting needs no shard: any process that claims an outbox row posts it over REST.

use std::fmt;
use std::str::FromStr;

/// The most shards herald accepts in a range; Discord's largest bots run a few thousand.
const MAX_SHARDS: u32 = 16_384;

/// The shards one process connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shards {
    /// One shard of one: every guild's events (a single process, the default).
    #[default]
    Single,
    /// As many shards as Discord recommends (`GET /gateway/bot`), all in this process.
    Auto,
    /// Shards `first..=last` of `total`.
    Range { first: u32, last: u32, total: u32 },
}

impl Shards {
    /// `(first, last, total)` for serenity's shard manager; `None` for [`Shards::Auto`].
    pub fn span(self) -> Option<(u32, u32, u32)> {
        match self {
            Shards::Single => Some((0, 0, 1)),
            Shards::Auto => None,
            Shards::Range { first, last, total } => Some((first, last, total)),
        }
    }

    /// Whether this process runs shard `id`, for a gateway that reports it.
    pub fn holds(self, id: u32, total: u32) -> bool {
        match self {
            Shards::Single => id == 0 && total == 1,
            Shards::Auto => true,
            Shards::Range { first, last, total: t } => t == total && (first..=last).contains(&id),
        }
    }
}

impl FromStr for Shards {
    type Err = String;

    /// `auto`, `N/TOTAL` or `FIRST-LAST/TOTAL` (shard ids count from 0).
    fn from_str(s: &str) -> Result<Shards, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Shards::Auto);
        }
        let usage = || {
            format!(
                "\"{s}\" is not a shard range: write FIRST-LAST/TOTAL (e.g. 0-1/4 runs shards 0 \
                 and 1 of 4), N/TOTAL for one shard, or auto"
            )
        };
        let (range, total) = s.split_once('/').ok_or_else(usage)?;
        let number = |t: &str| t.trim().parse::<u32>().map_err(|_| usage());
        let total = number(total)?;
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(range)?;
                (n, n)
            }
        };
        if total == 0 || total > MAX_SHARDS {
            return Err(format!("\"{s}\": the total must be between 1 and {MAX_SHARDS}"));
        }
        if first > last {
            return Err(format!(
                "\"{s}\": the first shard ({first}) comes after the last ({last})"
            ));
        }
        if last >= total {
            return Err(format!(
                "\"{s}\": shard ids run from 0 to {} for a total of {total}",
                total - 1
            ));
        }
        Ok(if total == 1 { Shards::Single } else { Shards::Range { first, last, total } })
    }
}

impl fmt::Display for Shards {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shards::Single => f.write_str("0/1"),
            Shards::Auto => f.write_str("auto"),
            Shards::Range { first, last, total } if first == last => write!(f, "{first}/{total}"),
            Shards::Range { first, last, total } => write!(f, "{first}-{last}/{total}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Shards;

    #[test]
    fn ranges_parse_and_bad_ones_say_why() {
        assert_eq!("0-1/4".parse(), Ok(Shards::Range { first: 0, last: 1, total: 4 }));
        assert_eq!(" 3/4 ".parse(), Ok(Shards::Range { first: 3, last: 3, total: 4 }));
        assert_eq!("0/1".parse(), Ok(Shards::Single));
        assert_eq!("AUTO".parse(), Ok(Shards::Auto));
        assert_eq!(Shards::Range { first: 2, last: 3, total: 4 }.to_string(), "2-3/4");
        for (bad, why) in [
            ("2-1/4", "comes after"),
            ("0-4/4", "from 0 to 3"),
            ("1/0", "between 1 and"),
            ("0-1", "FIRST-LAST/TOTAL"),
            ("a-b/4", "FIRST-LAST/TOTAL"),
            ("-1/4", "FIRST-LAST/TOTAL"),
        ] {
            let e = bad.parse::<Shards>().unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn a_process_holds_only_its_own_shards() {
        let r = Shards::Range { first: 0, last: 1, total: 4 };
        assert!(r.holds(1, 4));
        assert!(!r.holds(2, 4));
        assert!(!r.holds(1, 2), "a gateway with another total is not ours");
        assert!(Shards::Single.holds(0, 1));
    }
}
