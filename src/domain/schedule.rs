//! Digest schedules: when a channel's digest is posted.
//!
//! A [`Schedule`] can only be obtained through [`Schedule::parse`], so code
//! that holds one never has to re-check it. Fire times are computed in the
//! schedule's IANA timezone so that "daily 08:00" stays at 08:00 on the wall
//! clock across DST changes, with two rules for the hours DST breaks:
//!
//! * a local time that does not exist (spring-forward gap) fires once, at the
//!   first instant after the gap (02:30 becomes 03:00 in America/New_York);
//! * a local time that happens twice (fall-back) fires once, at the earlier
//!   instant. This applies to `hourly` too: the repeated hour fires only on
//!   its first pass, so that period is two real hours long.
//!
//! `every Nh` / `every Nm` ignore the timezone and are anchored to the Unix
//! epoch, so a restart never shifts them and every instance agrees.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::{TZ_VARIANTS, Tz};

/// Every form, listed in errors so a user who got it wrong sees all choices.
const FORMS: &str = "hourly | daily HH:MM | weekdays HH:MM | weekly DAY HH:MM | every Nh | every Nm, then optionally a timezone";
const FORM_HOURLY: &str = "hourly";
const FORM_DAILY: &str = "daily HH:MM";
const FORM_WEEKDAYS: &str = "weekdays HH:MM";
const FORM_WEEKLY: &str = "weekly DAY HH:MM (DAY = mon..sun)";
const FORM_EVERY: &str = "every Nh (N = 1-168) | every Nm (N = 15-1440)";
const FORM_WORDS: [&str; 5] = ["hourly", "daily", "weekdays", "weekly", "every"];

const MIN_EVERY_MINUTES: u32 = 15;
const MAX_EVERY_MINUTES: u32 = 1440;
const MAX_EVERY_HOURS: u32 = 168;

/// How far to look for the end of a DST gap. Real gaps are at most a day
/// (Samoa skipped 2011-12-30); two days leaves room without risking a long
/// loop on absurd inputs.
const GAP_SEARCH_MINUTES: u32 = 2 * 24 * 60;

/// Longest user text echoed back in an error, so a pasted novel does not
/// come back as a novel.
const MAX_ECHO_CHARS: usize = 60;

/// What repeats, independent of the timezone. Public so callers can show or
/// reason about a schedule; it cannot be turned back into a [`Schedule`]
/// without going through [`Schedule::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recurrence {
    /// Every local hour at minute 0.
    Hourly,
    /// Every day at a local time.
    Daily { at: NaiveTime },
    /// Monday to Friday (local dates) at a local time.
    Weekdays { at: NaiveTime },
    /// One local weekday at a local time.
    Weekly { day: Weekday, at: NaiveTime },
    /// A fixed period, multiples of which since the Unix epoch are fire times.
    Every { minutes: u32 },
}

/// A valid digest schedule in an IANA timezone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Schedule {
    recurrence: Recurrence,
    tz: Tz,
}

/// Why a schedule was rejected. Each message names the problem and the
/// expected form, because it is shown verbatim to the chat user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    Empty,
    UnknownForm { word: String, suggestion: Option<&'static str> },
    Invalid { spec: String, problem: String, form: &'static str },
    UnknownTimezone { name: String, suggestion: Option<&'static str> },
    TimezoneTwice { in_spec: String, given: String },
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::Empty => write!(f, "empty schedule; forms: {FORMS}"),
            ScheduleError::UnknownForm { word, suggestion } => {
                write!(f, "unknown schedule \"{word}\"")?;
                if let Some(s) = suggestion {
                    write!(f, ": did you mean {s}?")?;
                }
                match suggestion {
                    Some(_) => write!(f, " forms: {FORMS}"),
                    None => write!(f, "; forms: {FORMS}"),
                }
            }
            ScheduleError::Invalid { spec, problem, form } => {
                write!(f, "\"{spec}\": {problem}; form: {form}")
            }
            ScheduleError::UnknownTimezone { name, suggestion } => match suggestion {
                Some(s) => write!(f, "unknown timezone \"{name}\": did you mean {s}?"),
                None => write!(
                    f,
                    "unknown timezone \"{name}\"; use an IANA name such as Europe/Paris, America/New_York or UTC"
                ),
            },
            ScheduleError::TimezoneTwice { in_spec, given } => write!(
                f,
                "timezone given twice (\"{in_spec}\" and \"{given}\"); give it once, e.g. daily 08:00 Europe/Paris"
            ),
        }
    }
}

impl std::error::Error for ScheduleError {}

impl Schedule {
    /// Parses a schedule. The timezone may come separately (`tz`, e.g. a
    /// second SQLite column or a slash-command option) or as the last word
    /// of `spec`, so that [`Display`](fmt::Display) output parses back. An
    /// empty `tz` counts as absent; absent everywhere means UTC.
    pub fn parse(spec: &str, tz: Option<&str>) -> Result<Schedule, ScheduleError> {
        let tokens: Vec<&str> = spec.split_whitespace().collect();
        let shown = echo(&tokens.join(" "));
        let Some((first, rest)) = tokens.split_first() else {
            return Err(ScheduleError::Empty);
        };
        let word = first.to_ascii_lowercase();
        let invalid = |problem: String, form: &'static str| ScheduleError::Invalid {
            spec: shown.clone(),
            problem,
            form,
        };

        let (recurrence, used, form) = match word.as_str() {
            "hourly" => (Recurrence::Hourly, 0, FORM_HOURLY),
            "daily" => {
                let at = parse_time(rest.first().copied()).map_err(|p| invalid(p, FORM_DAILY))?;
                (Recurrence::Daily { at }, 1, FORM_DAILY)
            }
            "weekdays" => {
                let at =
                    parse_time(rest.first().copied()).map_err(|p| invalid(p, FORM_WEEKDAYS))?;
                (Recurrence::Weekdays { at }, 1, FORM_WEEKDAYS)
            }
            "weekly" => {
                let day = parse_day(rest.first().copied()).map_err(|p| invalid(p, FORM_WEEKLY))?;
                let at = parse_time(rest.get(1).copied()).map_err(|p| invalid(p, FORM_WEEKLY))?;
                (Recurrence::Weekly { day, at }, 2, FORM_WEEKLY)
            }
            "every" => {
                let (minutes, used) = parse_every(rest).map_err(|p| invalid(p, FORM_EVERY))?;
                (Recurrence::Every { minutes }, used, FORM_EVERY)
            }
            _ => {
                return Err(ScheduleError::UnknownForm {
                    word: echo(first),
                    suggestion: closest(&word, FORM_WORDS.iter().copied()),
                });
            }
        };

        let spec_tz = match rest.get(used..).unwrap_or_default() {
            [] => None,
            [one] if one.eq_ignore_ascii_case("am") || one.eq_ignore_ascii_case("pm") => {
                return Err(invalid("use 24-hour time (e.g. 20:00), not am/pm".to_string(), form));
            }
            [one] => Some(*one),
            [first_extra, ..] => {
                return Err(invalid(format!("unexpected \"{}\"", echo(first_extra)), form));
            }
        };
        let given_tz = tz.map(str::trim).filter(|t| !t.is_empty());
        let tz = match (spec_tz, given_tz) {
            (None, None) => Tz::UTC,
            (Some(name), None) | (None, Some(name)) => lookup_tz(name)?,
            (Some(in_spec), Some(given)) => {
                let a = lookup_tz(in_spec)?;
                let b = lookup_tz(given)?;
                if a != b {
                    return Err(ScheduleError::TimezoneTwice {
                        in_spec: a.name().to_string(),
                        given: b.name().to_string(),
                    });
                }
                a
            }
        };
        Ok(Schedule { recurrence, tz })
    }

    pub fn recurrence(&self) -> Recurrence {
        self.recurrence
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The schedule without its timezone, for the `spec` storage column.
    pub fn spec(&self) -> String {
        match self.recurrence {
            Recurrence::Hourly => "hourly".to_string(),
            Recurrence::Daily { at } => format!("daily {}", hhmm(at)),
            Recurrence::Weekdays { at } => format!("weekdays {}", hhmm(at)),
            Recurrence::Weekly { day, at } => format!("weekly {} {}", day_name(day), hhmm(at)),
            Recurrence::Every { minutes } if minutes % 60 == 0 => {
                format!("every {}h", minutes / 60)
            }
            Recurrence::Every { minutes } => format!("every {minutes}m"),
        }
    }

    /// The canonical IANA name, for the `tz` storage column.
    pub fn tz_name(&self) -> &'static str {
        self.tz.name()
    }

    /// The first fire time strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        if let Recurrence::Every { minutes } = self.recurrence {
            let period = i64::from(minutes) * 60;
            let next = after
                .timestamp()
                .div_euclid(period)
                .checked_add(1)
                .and_then(|k| k.checked_mul(period));
            return next
                .and_then(|secs| DateTime::from_timestamp(secs, 0))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
        }
        // Fire instants are non-decreasing in local slot time (see
        // `resolve`), so the first matching slot that lands after `after` is
        // the answer. Starting one step early costs nothing and covers the
        // slot containing `after`.
        let step = self.step();
        let found = (|| {
            let mut slot = self.floor_slot(self.local(after)?)?.checked_sub_signed(step)?;
            for _ in 0..self.max_slots() {
                if self.matches(slot)
                    && let Some(at) = resolve(self.tz, slot)
                    && at > after
                {
                    return Some(at);
                }
                slot = slot.checked_add_signed(step)?;
            }
            None
        })();
        // Only reachable at the edges of chrono's representable range.
        found.unwrap_or_else(|| after.checked_add_signed(step).unwrap_or(DateTime::<Utc>::MAX_UTC))
    }

    /// The latest fire time at or before `t`: the start of the digest period
    /// that contains `t`.
    pub fn previous_at_or_before(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        if let Recurrence::Every { minutes } = self.recurrence {
            let period = i64::from(minutes) * 60;
            let prev = t.timestamp().div_euclid(period).checked_mul(period);
            return prev
                .and_then(|secs| DateTime::from_timestamp(secs, 0))
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
        }
        // After a fall-back the wall clock can run behind a slot that has
        // already fired, so start two steps ahead of `t`'s local time.
        let step = self.step();
        let found = (|| {
            let mut slot = self.floor_slot(self.local(t)?)?.checked_add_signed(step * 2)?;
            for _ in 0..self.max_slots() {
                if self.matches(slot)
                    && let Some(at) = resolve(self.tz, slot)
                    && at <= t
                {
                    return Some(at);
                }
                slot = slot.checked_sub_signed(step)?;
            }
            None
        })();
        // Only reachable at the edges of chrono's representable range.
        found.unwrap_or_else(|| t.checked_sub_signed(step).unwrap_or(DateTime::<Utc>::MIN_UTC))
    }

    /// `DateTime::naive_local` panics at the edges of the range; this does not.
    fn local(&self, t: DateTime<Utc>) -> Option<NaiveDateTime> {
        let offset = self.tz.offset_from_utc_datetime(&t.naive_utc()).fix();
        t.naive_utc().checked_add_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc())))
    }

    fn step(&self) -> TimeDelta {
        match self.recurrence {
            Recurrence::Hourly => TimeDelta::hours(1),
            Recurrence::Every { minutes } => TimeDelta::minutes(i64::from(minutes)),
            _ => TimeDelta::days(1),
        }
    }

    /// Enough slots to cross a week plus a skipped day, for any form.
    fn max_slots(&self) -> u32 {
        match self.recurrence {
            Recurrence::Hourly => 24 * 4,
            _ => 20,
        }
    }

    /// The latest slot on this schedule's local grid at or before `local`.
    fn floor_slot(&self, local: NaiveDateTime) -> Option<NaiveDateTime> {
        let at = match self.recurrence {
            Recurrence::Hourly => {
                return local
                    .date()
                    .and_time(NaiveTime::MIN)
                    .checked_add_signed(TimeDelta::hours(i64::from(local.hour())));
            }
            Recurrence::Daily { at }
            | Recurrence::Weekdays { at }
            | Recurrence::Weekly { at, .. } => at,
            Recurrence::Every { .. } => return Some(local),
        };
        let slot = local.date().and_time(at);
        if slot <= local { Some(slot) } else { slot.checked_sub_signed(TimeDelta::days(1)) }
    }

    fn matches(&self, slot: NaiveDateTime) -> bool {
        match self.recurrence {
            Recurrence::Weekdays { .. } => !matches!(slot.weekday(), Weekday::Sat | Weekday::Sun),
            Recurrence::Weekly { day, .. } => slot.weekday() == day,
            _ => true,
        }
    }
}

impl fmt::Display for Schedule {
    /// Canonical form, e.g. "weekly mon 08:00 Europe/Berlin"; it always
    /// names the timezone so the text means the same thing anywhere.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.spec(), self.tz_name())
    }
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Schedule::parse(s, None)
    }
}

/// The instant a local slot fires at. Equals the earliest instant whose wall
/// clock reads `local` or later, which is what makes fire times monotonic
/// in slot order: ambiguous times take the earlier instant and gap times the
/// end of the gap.
fn resolve(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    if let Some(at) = tz.from_local_datetime(&local).earliest() {
        return Some(at.with_timezone(&Utc));
    }
    // Inside a gap. Transitions fall on whole minutes in every modern zone,
    // so the first existing minute is the first instant after the gap.
    let mut probe = local.with_second(0)?.with_nanosecond(0)?;
    for _ in 0..GAP_SEARCH_MINUTES {
        probe = probe.checked_add_signed(TimeDelta::minutes(1))?;
        if let Some(at) = tz.from_local_datetime(&probe).earliest() {
            return Some(at.with_timezone(&Utc));
        }
    }
    None
}

fn hhmm(t: NaiveTime) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

fn parse_time(token: Option<&str>) -> Result<NaiveTime, String> {
    let Some(token) = token else {
        return Err("missing time".to_string());
    };
    let bad = || format!("time must be HH:MM (24-hour), got \"{}\"", echo(token));
    let (h, m) = token.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return Err(bad());
    }
    let hour: u32 = h.parse().map_err(|_| bad())?;
    let minute: u32 = m.parse().map_err(|_| bad())?;
    if hour > 23 {
        return Err("hour must be 00-23".to_string());
    }
    if minute > 59 {
        return Err("minute must be 00-59".to_string());
    }
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or_else(bad)
}

fn parse_day(token: Option<&str>) -> Result<Weekday, String> {
    let Some(token) = token else {
        return Err("missing day".to_string());
    };
    let day = match token.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return Err(format!("unknown day \"{}\"", echo(token))),
    };
    Ok(day)
}

/// Parses the interval after `every`: "6h", "30m", or "6 hours". Returns
/// the period in minutes and how many tokens it used.
fn parse_every(rest: &[&str]) -> Result<(u32, usize), String> {
    let Some(first) = rest.first() else {
        return Err("missing interval".to_string());
    };
    let split = first.find(|c: char| !c.is_ascii_digit()).unwrap_or(first.len());
    // `split` is a char boundary: the start of a char, or the end.
    let (number, unit, used) = match (&first[..split], &first[split..]) {
        ("", _) => {
            return Err(format!("interval must be a number with h or m, got \"{}\"", echo(first)));
        }
        (n, "") => match rest.get(1) {
            Some(unit) if unit_of(unit).is_some() => (n, *unit, 2),
            _ => return Err(format!("\"{n}\" needs a unit: {n}h or {n}m")),
        },
        (n, unit) => (n, unit, 1),
    };
    let Some(hours) = unit_of(unit) else {
        return Err(format!("unknown unit \"{}\"; use h or m", echo(unit)));
    };
    let n: u32 = number.parse().map_err(|_| "interval is too large".to_string())?;
    let minutes = if hours {
        if !(1..=MAX_EVERY_HOURS).contains(&n) {
            return Err(format!("hours must be 1-{MAX_EVERY_HOURS}"));
        }
        n * 60
    } else {
        if !(MIN_EVERY_MINUTES..=MAX_EVERY_MINUTES).contains(&n) {
            return Err(format!("minutes must be {MIN_EVERY_MINUTES}-{MAX_EVERY_MINUTES}"));
        }
        n
    };
    Ok((minutes, used))
}

/// `Some(true)` for an hours unit, `Some(false)` for minutes.
fn unit_of(unit: &str) -> Option<bool> {
    match unit.to_ascii_lowercase().as_str() {
        "h" | "hr" | "hrs" | "hour" | "hours" => Some(true),
        "m" | "min" | "mins" | "minute" | "minutes" => Some(false),
        _ => None,
    }
}

/// Finds a zone by IANA name, forgiving case and spaces for underscores,
/// because users type "america/new york".
fn lookup_tz(name: &str) -> Result<Tz, ScheduleError> {
    let wanted = name.trim().replace(' ', "_");
    if let Ok(tz) = wanted.parse::<Tz>() {
        return Ok(tz);
    }
    if let Some(tz) = TZ_VARIANTS.iter().find(|tz| tz.name().eq_ignore_ascii_case(&wanted)) {
        return Ok(*tz);
    }
    Err(ScheduleError::UnknownTimezone { name: echo(name.trim()), suggestion: suggest_tz(&wanted) })
}

/// Closest zone by edit distance. Without a '/', the input is also compared
/// with the city part, so "Tokio" suggests Asia/Tokyo.
fn suggest_tz(wanted: &str) -> Option<&'static str> {
    if wanted.chars().count() > 64 {
        return None;
    }
    let wanted = wanted.to_ascii_lowercase();
    // Zone abbreviations like "NSW" are so short that any three-letter word
    // is one edit away from some zone; only suggest on longer input.
    let limit = match wanted.chars().count() {
        0..=3 => 0,
        _ => max_distance(&wanted),
    };
    let mut best: Option<(usize, &'static str)> = None;
    for tz in TZ_VARIANTS.iter() {
        let name = tz.name();
        let lower = name.to_ascii_lowercase();
        let mut distance = strsim::osa_distance(&wanted, &lower);
        if !wanted.contains('/')
            && let Some((_, city)) = lower.rsplit_once('/')
        {
            distance = distance.min(strsim::osa_distance(&wanted, city));
        }
        if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, name));
        }
    }
    best.map(|(_, name)| name)
}

fn closest(word: &str, candidates: impl Iterator<Item = &'static str>) -> Option<&'static str> {
    if word.chars().count() > 64 {
        return None;
    }
    let limit = max_distance(word);
    candidates
        .map(|c| (strsim::osa_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Short words tolerate one typo; longer ones a few more.
fn max_distance(word: &str) -> usize {
    match word.chars().count() {
        0..=4 => 1,
        5..=12 => 2,
        n => n / 5,
    }
}

/// User text quoted back in an error, cut short so errors stay one line. Its backticks
/// become apostrophes: an error's usage line is a code span, and a stray backtick typed
/// by someone must not pair with it.
pub(crate) fn echo(s: &str) -> String {
    let mut short: String =
        s.chars().take(MAX_ECHO_CHARS).map(|c| if c == '`' { '\'' } else { c }).collect();
    if s.chars().count() > MAX_ECHO_CHARS {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).single().expect("valid test instant")
    }

    fn sched(spec: &str, tz: Option<&str>) -> Schedule {
        Schedule::parse(spec, tz).unwrap_or_else(|e| panic!("{spec:?} {tz:?}: {e}"))
    }

    fn err(spec: &str, tz: Option<&str>) -> String {
        match Schedule::parse(spec, tz) {
            Ok(s) => panic!("{spec:?} parsed as {s}"),
            Err(e) => e.to_string(),
        }
    }

    /// All fire times in [from, to), by repeated `next_after`.
    fn fires(s: &Schedule, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = from - TimeDelta::seconds(1);
        loop {
            t = s.next_after(t);
            if t >= to {
                return out;
            }
            out.push(t);
        }
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("valid test time")
    }

    #[test]
    fn parses_each_form() {
        assert_eq!(sched("hourly", None).recurrence(), Recurrence::Hourly);
        assert_eq!(sched("daily 08:00", None).recurrence(), Recurrence::Daily { at: hm(8, 0) });
        assert_eq!(
            sched("weekdays 17:45", None).recurrence(),
            Recurrence::Weekdays { at: hm(17, 45) }
        );
        assert_eq!(
            sched("weekly mon 08:00", None).recurrence(),
            Recurrence::Weekly { day: Weekday::Mon, at: hm(8, 0) }
        );
        assert_eq!(sched("every 6h", None).recurrence(), Recurrence::Every { minutes: 360 });
        assert_eq!(sched("every 30m", None).recurrence(), Recurrence::Every { minutes: 30 });
    }

    #[test]
    fn parsing_is_forgiving_about_case_spaces_and_day_names() {
        let s = sched("  DAILY    8:05  ", None);
        assert_eq!(s.recurrence(), Recurrence::Daily { at: hm(8, 5) });
        for (word, day) in [
            ("Monday", Weekday::Mon),
            ("tues", Weekday::Tue),
            ("WED", Weekday::Wed),
            ("thurs", Weekday::Thu),
            ("friday", Weekday::Fri),
            ("sat", Weekday::Sat),
            ("Sunday", Weekday::Sun),
        ] {
            let s = sched(&format!("Weekly {word} 23:59"), None);
            assert_eq!(s.recurrence(), Recurrence::Weekly { day, at: hm(23, 59) });
        }
        assert_eq!(sched("every 6 hours", None).recurrence(), Recurrence::Every { minutes: 360 });
        assert_eq!(sched("EVERY 90 min", None).recurrence(), Recurrence::Every { minutes: 90 });
        assert_eq!(sched("every 168h", None).recurrence(), Recurrence::Every { minutes: 168 * 60 });
        assert_eq!(sched("every 15m", None).recurrence(), Recurrence::Every { minutes: 15 });
        assert_eq!(sched("every 1440m", None).recurrence(), Recurrence::Every { minutes: 1440 });
    }

    #[test]
    fn timezone_defaults_to_utc_and_is_found_separately_or_in_spec() {
        assert_eq!(sched("hourly", None).tz_name(), "UTC");
        assert_eq!(sched("hourly", Some("")).tz_name(), "UTC");
        assert_eq!(sched("hourly", Some("  ")).tz_name(), "UTC");
        assert_eq!(sched("daily 08:00", Some("Europe/Berlin")).tz_name(), "Europe/Berlin");
        assert_eq!(sched("daily 08:00 Europe/Berlin", None).tz_name(), "Europe/Berlin");
        assert_eq!(sched("daily 08:00", Some("europe/berlin")).tz_name(), "Europe/Berlin");
        assert_eq!(sched("daily 08:00", Some("america/new york")).tz_name(), "America/New_York");
        assert_eq!(sched("daily 08:00 utc", None).tz_name(), "UTC");
        // The same zone twice is not a conflict.
        assert_eq!(sched("daily 08:00 Asia/Tokyo", Some("asia/tokyo")).tz_name(), "Asia/Tokyo");
        assert_eq!(sched("every 6 h Asia/Tokyo", None).tz_name(), "Asia/Tokyo");
    }

    #[test]
    fn errors_say_what_is_wrong_and_the_form() {
        assert_eq!(
            err("daily 25:00", None),
            "\"daily 25:00\": hour must be 00-23; form: daily HH:MM"
        );
        assert_eq!(
            err("daily 08:60", None),
            "\"daily 08:60\": minute must be 00-59; form: daily HH:MM"
        );
        assert_eq!(err("daily", None), "\"daily\": missing time; form: daily HH:MM");
        assert_eq!(
            err("daily 8am", None),
            "\"daily 8am\": time must be HH:MM (24-hour), got \"8am\"; form: daily HH:MM"
        );
        assert_eq!(
            err("daily 8:5", None),
            "\"daily 8:5\": time must be HH:MM (24-hour), got \"8:5\"; form: daily HH:MM"
        );
        assert_eq!(
            err("daily 8:00 pm", None),
            "\"daily 8:00 pm\": use 24-hour time (e.g. 20:00), not am/pm; form: daily HH:MM"
        );
        assert_eq!(
            err("weekdays 123:00", None),
            "\"weekdays 123:00\": time must be HH:MM (24-hour), got \"123:00\"; form: weekdays HH:MM"
        );
        assert_eq!(
            err("weekly funday 08:00", None),
            "\"weekly funday 08:00\": unknown day \"funday\"; form: weekly DAY HH:MM (DAY = mon..sun)"
        );
        assert_eq!(
            err("weekly mon", None),
            "\"weekly mon\": missing time; form: weekly DAY HH:MM (DAY = mon..sun)"
        );
        assert_eq!(
            err("weekly", None),
            "\"weekly\": missing day; form: weekly DAY HH:MM (DAY = mon..sun)"
        );
        assert_eq!(
            err("hourly now", None),
            "unknown timezone \"now\"; use an IANA name such as Europe/Paris, America/New_York or UTC"
        );
        assert_eq!(
            err("daily 08:00 foo bar", None),
            "\"daily 08:00 foo bar\": unexpected \"foo\"; form: daily HH:MM"
        );
    }

    #[test]
    fn every_errors() {
        let form = "form: every Nh (N = 1-168) | every Nm (N = 15-1440)";
        let cases = [
            ("every 0h", "hours must be 1-168"),
            ("every 169h", "hours must be 1-168"),
            ("every 10m", "minutes must be 15-1440"),
            ("every 1441m", "minutes must be 15-1440"),
            ("every 6", "\"6\" needs a unit: 6h or 6m"),
            ("every 6x", "unknown unit \"x\"; use h or m"),
            ("every h", "interval must be a number with h or m, got \"h\""),
            ("every", "missing interval"),
            ("every 99999999999h", "interval is too large"),
        ];
        for (spec, problem) in cases {
            assert_eq!(err(spec, None), format!("\"{spec}\": {problem}; {form}"));
        }
    }

    #[test]
    fn unknown_form_and_empty() {
        assert_eq!(
            err("dialy 08:00", None),
            "unknown schedule \"dialy\": did you mean daily? forms: hourly | daily HH:MM | weekdays HH:MM | weekly DAY HH:MM | every Nh | every Nm, then optionally a timezone"
        );
        assert!(err("fortnightly", None).starts_with("unknown schedule \"fortnightly\"; forms:"));
        assert!(err("", None).starts_with("empty schedule; forms: hourly"));
        assert!(err("   ", Some("UTC")).starts_with("empty schedule"));
        assert_eq!(Schedule::parse("", None), Err(ScheduleError::Empty));
    }

    #[test]
    fn timezone_errors_suggest_the_closest_name() {
        assert_eq!(
            err("daily 08:00", Some("Europe/Pari")),
            "unknown timezone \"Europe/Pari\": did you mean Europe/Paris?"
        );
        assert_eq!(
            err("daily 08:00 Amrica/New_Yrok", None),
            "unknown timezone \"Amrica/New_Yrok\": did you mean America/New_York?"
        );
        assert_eq!(
            err("daily 08:00", Some("Tokio")),
            "unknown timezone \"Tokio\": did you mean Asia/Tokyo?"
        );
        assert_eq!(
            err("daily 08:00", Some("Mars/Olympus_Mons")),
            "unknown timezone \"Mars/Olympus_Mons\"; use an IANA name such as Europe/Paris, America/New_York or UTC"
        );
        assert_eq!(
            err("daily 08:00 Europe/Paris", Some("Asia/Tokyo")),
            "timezone given twice (\"Europe/Paris\" and \"Asia/Tokyo\"); give it once, e.g. daily 08:00 Europe/Paris"
        );
        // A huge name is echoed shortened and not compared at all.
        let long = "x/".repeat(5000);
        let msg = err("hourly", Some(&long));
        assert!(msg.len() < 200, "{msg}");
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        let cases = [
            ("weekly Monday 8:00", Some("europe/berlin"), "weekly mon 08:00 Europe/Berlin"),
            ("hourly", None, "hourly UTC"),
            ("DAILY 7:05", Some("Asia/Kolkata"), "daily 07:05 Asia/Kolkata"),
            ("weekdays 18:30", Some("America/New_York"), "weekdays 18:30 America/New_York"),
            ("every 120m", None, "every 2h UTC"),
            ("every 90 minutes", None, "every 90m UTC"),
            ("every 6h", Some("Australia/Lord_Howe"), "every 6h Australia/Lord_Howe"),
            ("weekly sun 23:59", Some("Pacific/Chatham"), "weekly sun 23:59 Pacific/Chatham"),
        ];
        for (spec, tz, shown) in cases {
            let s = sched(spec, tz);
            assert_eq!(s.to_string(), shown);
            assert_eq!(sched(&s.to_string(), None), s);
            assert_eq!(s.to_string().parse::<Schedule>(), Ok(s));
            // The two storage columns rebuild the same value.
            assert_eq!(sched(&s.spec(), Some(s.tz_name())), s);
        }
        let s = sched("weekly mon 08:00", Some("Europe/Berlin"));
        assert_eq!(s.spec(), "weekly mon 08:00");
        assert_eq!(s.tz_name(), "Europe/Berlin");
        assert_eq!(s.timezone(), chrono_tz::Europe::Berlin);
    }

    #[test]
    fn daily_utc_is_strictly_after() {
        let s = sched("daily 08:00", None);
        assert_eq!(s.next_after(utc(2026, 5, 1, 7, 59)), utc(2026, 5, 1, 8, 0));
        assert_eq!(s.next_after(utc(2026, 5, 1, 8, 0)), utc(2026, 5, 2, 8, 0));
        let just_after = utc(2026, 5, 1, 8, 0) + TimeDelta::nanoseconds(1);
        assert_eq!(s.next_after(just_after), utc(2026, 5, 2, 8, 0));
        assert_eq!(s.previous_at_or_before(utc(2026, 5, 1, 8, 0)), utc(2026, 5, 1, 8, 0));
        assert_eq!(s.previous_at_or_before(utc(2026, 5, 1, 7, 59)), utc(2026, 4, 30, 8, 0));
    }

    #[test]
    fn hourly_utc() {
        let s = sched("hourly", None);
        assert_eq!(s.next_after(utc(2026, 5, 1, 7, 0)), utc(2026, 5, 1, 8, 0));
        assert_eq!(s.next_after(utc(2026, 5, 1, 23, 30)), utc(2026, 5, 2, 0, 0));
        assert_eq!(s.previous_at_or_before(utc(2026, 5, 1, 7, 59)), utc(2026, 5, 1, 7, 0));
    }

    #[test]
    fn weekdays_skip_the_weekend() {
        let s = sched("weekdays 09:00", None);
        // 2026-05-01 is a Friday.
        assert_eq!(s.next_after(utc(2026, 5, 1, 9, 0)), utc(2026, 5, 4, 9, 0));
        assert_eq!(s.next_after(utc(2026, 5, 2, 12, 0)), utc(2026, 5, 4, 9, 0));
        assert_eq!(s.previous_at_or_before(utc(2026, 5, 3, 12, 0)), utc(2026, 5, 1, 9, 0));
        assert_eq!(s.previous_at_or_before(utc(2026, 5, 4, 8, 59)), utc(2026, 5, 1, 9, 0));
    }

    #[test]
    fn weekdays_use_the_local_date() {
        // 2026-05-04 00:30 in Auckland (+12) is still Sunday in UTC.
        let s = sched("weekdays 00:30", Some("Pacific/Auckland"));
        assert_eq!(s.next_after(utc(2026, 5, 2, 0, 0)), utc(2026, 5, 3, 12, 30));
    }

    #[test]
    fn weekly_crosses_a_year_end() {
        let s = sched("weekly fri 09:00", None);
        // 2026-12-31 is a Thursday, 2027-01-01 a Friday.
        assert_eq!(s.next_after(utc(2026, 12, 31, 10, 0)), utc(2027, 1, 1, 9, 0));
        let s = sched("weekly mon 08:00", Some("Europe/Berlin"));
        // From Tuesday 2026-12-29 to Monday 2027-01-04, 08:00 CET.
        assert_eq!(s.next_after(utc(2026, 12, 29, 12, 0)), utc(2027, 1, 4, 7, 0));
        assert_eq!(s.previous_at_or_before(utc(2027, 1, 3, 12, 0)), utc(2026, 12, 28, 7, 0));
        // Local New Year's Eve in Tokyo is still 2026 in UTC.
        let s = sched("weekly fri 08:00", Some("Asia/Tokyo"));
        assert_eq!(s.next_after(utc(2026, 12, 30, 0, 0)), utc(2026, 12, 31, 23, 0));
    }

    #[test]
    fn new_york_spring_forward() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT (07:00Z).
        let s = sched("daily 02:30", Some("America/New_York"));
        assert_eq!(
            fires(&s, utc(2026, 3, 7, 0, 0), utc(2026, 3, 10, 0, 0)),
            vec![utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 30)]
        );
        assert_eq!(s.previous_at_or_before(utc(2026, 3, 8, 12, 0)), utc(2026, 3, 8, 7, 0));

        let s = sched("weekly sun 02:30", Some("America/New_York"));
        assert_eq!(s.next_after(utc(2026, 3, 2, 0, 0)), utc(2026, 3, 8, 7, 0));
        assert_eq!(s.next_after(utc(2026, 3, 8, 7, 0)), utc(2026, 3, 15, 6, 30));

        // Fridays before are EST, Mondays after are EDT.
        let s = sched("weekdays 08:00", Some("America/New_York"));
        assert_eq!(s.next_after(utc(2026, 3, 6, 13, 0)), utc(2026, 3, 9, 12, 0));

        // The hour that does not exist merges into 03:00: no double fire.
        let s = sched("hourly", Some("America/New_York"));
        assert_eq!(
            fires(&s, utc(2026, 3, 8, 5, 0), utc(2026, 3, 8, 9, 0)),
            vec![
                utc(2026, 3, 8, 5, 0),
                utc(2026, 3, 8, 6, 0),
                utc(2026, 3, 8, 7, 0),
                utc(2026, 3, 8, 8, 0)
            ]
        );
    }

    #[test]
    fn new_york_fall_back() {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST (06:00Z); 01:00-02:00 repeats.
        let s = sched("daily 01:30", Some("America/New_York"));
        assert_eq!(
            fires(&s, utc(2026, 10, 31, 0, 0), utc(2026, 11, 3, 0, 0)),
            vec![utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]
        );
        // During the second 01:30 the period still started at the first.
        assert_eq!(s.previous_at_or_before(utc(2026, 11, 1, 6, 45)), utc(2026, 11, 1, 5, 30));

        let s = sched("weekly sun 01:30", Some("America/New_York"));
        assert_eq!(s.next_after(utc(2026, 10, 26, 0, 0)), utc(2026, 11, 1, 5, 30));
        assert_eq!(s.next_after(utc(2026, 11, 1, 5, 30)), utc(2026, 11, 8, 6, 30));

        let s = sched("weekdays 08:00", Some("America/New_York"));
        assert_eq!(s.next_after(utc(2026, 10, 30, 12, 0)), utc(2026, 11, 2, 13, 0));

        // The repeated 01:00 fires only on its first pass.
        let s = sched("hourly", Some("America/New_York"));
        assert_eq!(
            fires(&s, utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 9, 0)),
            vec![
                utc(2026, 11, 1, 4, 0),
                utc(2026, 11, 1, 5, 0),
                utc(2026, 11, 1, 7, 0),
                utc(2026, 11, 1, 8, 0)
            ]
        );
        assert_eq!(s.previous_at_or_before(utc(2026, 11, 1, 6, 30)), utc(2026, 11, 1, 5, 0));
    }

    #[test]
    fn berlin_spring_forward() {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z).
        let s = sched("daily 02:30", Some("Europe/Berlin"));
        assert_eq!(
            fires(&s, utc(2026, 3, 28, 0, 0), utc(2026, 3, 31, 0, 0)),
            vec![utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 0), utc(2026, 3, 30, 0, 30)]
        );
        let s = sched("weekly sun 02:15", Some("Europe/Berlin"));
        assert_eq!(s.next_after(utc(2026, 3, 23, 0, 0)), utc(2026, 3, 29, 1, 0));
        let s = sched("weekdays 09:00", Some("Europe/Berlin"));
        assert_eq!(s.next_after(utc(2026, 3, 27, 8, 0)), utc(2026, 3, 30, 7, 0));
        let s = sched("hourly", Some("Europe/Berlin"));
        assert_eq!(
            fires(&s, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 3, 0)),
            vec![
                utc(2026, 3, 28, 23, 0),
                utc(2026, 3, 29, 0, 0),
                utc(2026, 3, 29, 1, 0),
                utc(2026, 3, 29, 2, 0)
            ]
        );
    }

    #[test]
    fn berlin_fall_back() {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z); 02:00-03:00 repeats.
        let s = sched("daily 02:30", Some("Europe/Berlin"));
        assert_eq!(
            fires(&s, utc(2026, 10, 24, 0, 0), utc(2026, 10, 27, 0, 0)),
            vec![utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
        );
        let s = sched("weekly sun 02:30", Some("Europe/Berlin"));
        assert_eq!(s.next_after(utc(2026, 10, 25, 0, 30)), utc(2026, 11, 1, 1, 30));
        let s = sched("weekdays 09:00", Some("Europe/Berlin"));
        assert_eq!(s.next_after(utc(2026, 10, 23, 7, 0)), utc(2026, 10, 26, 8, 0));
        let s = sched("hourly", Some("Europe/Berlin"));
        assert_eq!(
            fires(&s, utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0)),
            vec![utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 2, 0)]
        );
    }

    #[test]
    fn hourly_in_half_and_quarter_hour_zones_fires_at_local_minute_zero() {
        let s = sched("hourly", Some("Asia/Kolkata"));
        assert_eq!(s.next_after(utc(2026, 1, 15, 10, 0)), utc(2026, 1, 15, 10, 30));
        assert_eq!(s.next_after(utc(2026, 1, 15, 10, 30)), utc(2026, 1, 15, 11, 30));
        assert_eq!(s.previous_at_or_before(utc(2026, 1, 15, 10, 29)), utc(2026, 1, 15, 9, 30));
        let s = sched("hourly", Some("Asia/Kathmandu"));
        assert_eq!(s.next_after(utc(2026, 1, 15, 10, 0)), utc(2026, 1, 15, 10, 15));
    }

    #[test]
    fn lord_howe_half_hour_dst() {
        // 2026-10-04: 02:00 +10:30 jumps to 02:30 +11 (15:30Z on the 3rd).
        let s = sched("daily 02:15", Some("Australia/Lord_Howe"));
        assert_eq!(
            fires(&s, utc(2026, 10, 2, 12, 0), utc(2026, 10, 5, 12, 0)),
            vec![utc(2026, 10, 2, 15, 45), utc(2026, 10, 3, 15, 30), utc(2026, 10, 4, 15, 15)]
        );
        // 2026-04-05: 02:00 +11 falls back to 01:30 +10:30; 01:30-02:00 repeats.
        let s = sched("daily 01:45", Some("Australia/Lord_Howe"));
        assert_eq!(
            fires(&s, utc(2026, 4, 3, 12, 0), utc(2026, 4, 6, 12, 0)),
            vec![utc(2026, 4, 3, 14, 45), utc(2026, 4, 4, 14, 45), utc(2026, 4, 5, 15, 15)]
        );
    }

    #[test]
    fn every_is_anchored_to_the_epoch() {
        let s = sched("every 6h", None);
        assert_eq!(s.next_after(utc(2026, 5, 5, 7, 13)), utc(2026, 5, 5, 12, 0));
        assert_eq!(s.next_after(utc(2026, 5, 5, 12, 0)), utc(2026, 5, 5, 18, 0));
        assert_eq!(s.previous_at_or_before(utc(2026, 5, 5, 7, 13)), utc(2026, 5, 5, 6, 0));
        assert_eq!(s.previous_at_or_before(utc(2026, 5, 5, 6, 0)), utc(2026, 5, 5, 6, 0));
        // A "restart" (a fresh value) and a different zone agree.
        let again = sched("every 6 hours", Some("Asia/Kolkata"));
        for t in [utc(2026, 3, 8, 6, 59), utc(2026, 11, 1, 5, 1), utc(2030, 1, 1, 0, 0)] {
            assert_eq!(again.next_after(t), s.next_after(t));
        }
        // Odd periods stay on the epoch grid, also before 1970.
        let s = sched("every 45m", None);
        assert_eq!(s.next_after(utc(1970, 1, 1, 0, 0)), utc(1970, 1, 1, 0, 45));
        assert_eq!(s.next_after(utc(1969, 12, 31, 23, 0)), utc(1969, 12, 31, 23, 15));
        for t in [utc(2026, 7, 1, 13, 7), utc(1969, 7, 20, 20, 17)] {
            let n = s.next_after(t);
            assert_eq!(n.timestamp().rem_euclid(45 * 60), 0);
            assert!(n > t && n - t <= TimeDelta::minutes(45));
        }
    }

    #[test]
    fn next_and_previous_agree_across_dst() {
        let schedules = [
            ("hourly", "America/New_York"),
            ("hourly", "Europe/Berlin"),
            ("hourly", "Australia/Lord_Howe"),
            ("hourly", "Asia/Kolkata"),
            ("daily 02:30", "America/New_York"),
            ("daily 01:30", "America/New_York"),
            ("daily 02:30", "Europe/Berlin"),
            ("daily 01:45", "Australia/Lord_Howe"),
            ("daily 02:15", "Australia/Lord_Howe"),
            ("weekdays 02:30", "Europe/Berlin"),
            ("weekly sun 02:30", "America/New_York"),
            ("weekly sun 01:30", "America/New_York"),
            ("every 45m", "UTC"),
        ];
        let windows = [
            utc(2026, 3, 6, 0, 0),
            utc(2026, 3, 27, 0, 0),
            utc(2026, 4, 3, 0, 0),
            utc(2026, 10, 2, 0, 0),
            utc(2026, 10, 23, 0, 0),
            utc(2026, 10, 30, 0, 0),
        ];
        for (spec, tz) in schedules {
            let s = sched(spec, Some(tz));
            for start in windows {
                let mut t = start;
                while t < start + TimeDelta::days(4) {
                    let next = s.next_after(t);
                    let prev = s.previous_at_or_before(t);
                    assert!(prev <= t && t < next, "{s} at {t}: {prev} {next}");
                    assert_eq!(s.next_after(prev), next, "{s} at {t}");
                    assert_eq!(s.previous_at_or_before(next), next, "{s} at {t}");
                    t += TimeDelta::minutes(17);
                }
            }
        }
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let specs = ["hourly", "daily 23:59", "weekdays 00:00", "weekly sun 12:00", "every 7h"];
        for spec in specs {
            for tz in ["UTC", "Pacific/Kiritimati", "Pacific/Niue", "America/New_York"] {
                let s = sched(spec, Some(tz));
                for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, DateTime::UNIX_EPOCH]
                {
                    let _ = s.next_after(t);
                    let _ = s.previous_at_or_before(t);
                }
            }
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let long = "9".repeat(10_000);
        let inputs = [
            "every ".to_string(),
            "every 🦀h".to_string(),
            "weekly é 08:00".to_string(),
            "daily ١٢:٠٠".to_string(),
            "daily :".to_string(),
            "daily 08:".to_string(),
            "daily :00".to_string(),
            format!("every {long}m"),
            format!("daily {long}:00"),
            format!("{long} {long}"),
            "\u{0}\u{feff}".to_string(),
        ];
        for input in &inputs {
            let _ = Schedule::parse(input, None);
            let _ = Schedule::parse("hourly", Some(input));
        }
    }
}
