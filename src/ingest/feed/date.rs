//! Feed dates in the forms feedparser reads: RFC 822/2822 with the odd variants feeds use
//! (no weekday, two-digit years, missing seconds, named or military zones, no zone at
//! all), W3CDTF and ISO 8601 (reduced precision, compact, with or without a zone, space
//! instead of `T`), and asctime. A date without a zone is taken as UTC, as feedparser does.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};

pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 100 {
        return None;
    }
    iso8601(s).or_else(|| rfc822(s)).or_else(|| asctime(s))
}

const MONTHS: [&str; 12] =
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

fn month(s: &str) -> Option<u32> {
    let l = s.to_ascii_lowercase();
    let l = l.get(..3)?;
    MONTHS.iter().position(|m| *m == l).map(|i| i as u32 + 1)
}

/// Minutes east of UTC for a zone token.
fn zone(z: &str) -> Option<i32> {
    let up = z.trim_matches(|c: char| c == '(' || c == ')').to_ascii_uppercase();
    let named = match up.as_str() {
        "" | "Z" | "UT" | "UTC" | "GMT" => Some(0),
        "EST" => Some(-5 * 60),
        "EDT" => Some(-4 * 60),
        "CST" => Some(-6 * 60),
        "CDT" => Some(-5 * 60),
        "MST" => Some(-7 * 60),
        "MDT" => Some(-6 * 60),
        "PST" => Some(-8 * 60),
        "PDT" => Some(-7 * 60),
        "AST" => Some(-4 * 60),
        "ADT" => Some(-3 * 60),
        "CET" => Some(60),
        "CEST" => Some(120),
        "BST" => Some(60),
        "JST" => Some(9 * 60),
        _ => None,
    };
    if named.is_some() {
        return named;
    }
    let up = up.strip_prefix("GMT").or_else(|| up.strip_prefix("UTC")).unwrap_or(&up);
    let (sign, digits) = match up.as_bytes().first()? {
        b'+' => (1, &up[1..]),
        b'-' => (-1, &up[1..]),
        _ if up.len() == 1 => {
            // Military zones: RFC 822 got their signs backwards; feedparser reads them as 0
            // like most software.
            return up.chars().all(|c| c.is_ascii_alphabetic()).then_some(0);
        }
        _ => return None,
    };
    let digits: String = digits.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.is_empty() || digits.len() > 4 {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 => (digits[..1].parse::<i32>().ok()?, digits[1..].parse::<i32>().ok()?),
        _ => (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?),
    };
    Some(sign * (h * 60 + m))
}

fn time(s: &str) -> Option<NaiveTime> {
    let mut parts = s.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next().unwrap_or("0").parse().ok()?;
    let sec = parts.next().unwrap_or("0");
    let (sec, frac) = sec.split_once(['.', ',']).unwrap_or((sec, ""));
    let sec: u32 = sec.parse().ok()?;
    let nanos = fraction_nanos(frac);
    if h == 24 && m == 0 && sec == 0 {
        return NaiveTime::from_hms_opt(23, 59, 59);
    }
    NaiveTime::from_hms_nano_opt(h, m, sec.min(59), nanos)
}

fn fraction_nanos(frac: &str) -> u32 {
    let digits: String = frac.chars().take_while(char::is_ascii_digit).take(9).collect();
    if digits.is_empty() {
        return 0;
    }
    let n: u32 = digits.parse().unwrap_or(0);
    n * 10u32.pow(9 - digits.len() as u32)
}

fn at(date: NaiveDate, t: NaiveTime, offset_minutes: i32) -> Option<DateTime<Utc>> {
    let local = NaiveDateTime::new(date, t);
    // Checked: the `-` operator panics at the edge of chrono's range (year 262,142).
    let utc = local.checked_sub_signed(chrono::Duration::minutes(i64::from(offset_minutes)))?;
    Some(Utc.from_utc_datetime(&utc))
}

fn year(y: &str) -> Option<i32> {
    let n: i32 = y.parse().ok()?;
    match y.len() {
        2 => Some(if n < 50 { 2000 + n } else { 1900 + n }),
        4 => Some(n),
        _ => None,
    }
}

/// `Thu, 01 Jan 2004 19:48:21 GMT` and its relatives.
fn rfc822(s: &str) -> Option<DateTime<Utc>> {
    let cleaned: String = s.replace(',', " ");
    let mut tokens: Vec<&str> = cleaned.split_whitespace().collect();
    if tokens.first().is_some_and(|t| {
        t.chars().all(|c| c.is_ascii_alphabetic()) && month(t).is_none() || t.ends_with('.')
    }) {
        tokens.remove(0); // weekday
    }
    if tokens.len() < 3 {
        return None;
    }
    // `01 Jan 2004` or `Jan 01 2004`.
    let (day, mon, yr) = if let Some(m) = month(tokens[1]) {
        (tokens[0], m, tokens[2])
    } else {
        (tokens[1], month(tokens[0])?, tokens[2])
    };
    let mut rest = tokens[3..].to_vec();
    // `01-Jan-2004` style is handled by the caller splitting on spaces only: rare enough.
    let day: u32 = day.parse().ok()?;
    let yr = year(yr)?;
    let date = NaiveDate::from_ymd_opt(yr, mon, day)?;
    let t = match rest.first() {
        Some(t) if t.contains(':') => {
            let t = rest.remove(0);
            // `19:48:21+0100` glued to its zone.
            match t.find(['+', '-']) {
                Some(i) => {
                    rest.insert(0, &t[i..]);
                    time(&t[..i])?
                }
                None => time(t)?,
            }
        }
        _ => NaiveTime::MIN,
    };
    // "02:02:33 PM": a 12-hour clock.
    let mut t = t;
    if let Some(ampm) = rest.first().map(|s| s.to_ascii_uppercase())
        && (ampm == "PM" || ampm == "AM")
    {
        rest.remove(0);
        let h = t.hour() % 12 + if ampm == "PM" { 12 } else { 0 };
        t = t.with_hour(h)?;
    }
    let offset = match rest.first() {
        Some(z) => zone(z).unwrap_or(0),
        None => 0,
    };
    at(date, t, offset)
}

/// W3CDTF / ISO 8601: `2003-12-13T18:30:02Z`, `2003-12-13`, `2003-12`, `20031213T183002`,
/// `2003-12-13 18:30:02+01:00`.
fn iso8601(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (date_part, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let date = if date_part.contains('-') {
        let mut it = date_part.split('-');
        let y: i32 = it.next()?.parse().ok()?;
        let m: u32 = it.next().map_or(Some(1), |m| m.parse().ok())?;
        let d: u32 = it.next().map_or(Some(1), |d| d.parse().ok())?;
        if it.next().is_some() {
            return None;
        }
        NaiveDate::from_ymd_opt(y, m, d)?
    } else if date_part.len() == 8 && date_part.bytes().all(|c| c.is_ascii_digit()) {
        NaiveDate::from_ymd_opt(
            date_part[..4].parse().ok()?,
            date_part[4..6].parse().ok()?,
            date_part[6..].parse().ok()?,
        )?
    } else if date_part.len() == 4 {
        NaiveDate::from_ymd_opt(date_part.parse().ok()?, 1, 1)?
    } else {
        return None;
    };
    if rest.is_empty() {
        return at(date, NaiveTime::MIN, 0);
    }
    // Split the time from its zone.
    let zone_at = rest.find(['Z', 'z', '+', '-']).or_else(|| rest.find(' '));
    let (t, z) = match zone_at {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let t = t.trim();
    let t = if !t.contains(':') && t.len() >= 4 && t.bytes().take(4).all(|c| c.is_ascii_digit()) {
        // Compact `183002`.
        let (hm, frac) = t.split_once('.').unwrap_or((t, ""));
        let h = hm.get(..2)?;
        let m = hm.get(2..4)?;
        let sec = hm.get(4..6).unwrap_or("00");
        time(&format!("{h}:{m}:{sec}.{frac}"))?
    } else {
        time(t)?
    };
    let offset = if z.is_empty() { 0 } else { zone(z)? };
    at(date, t, offset)
}

/// `Sun Jan  4 16:29:06 2004` (asctime), optionally with a zone before the year.
fn asctime(s: &str) -> Option<DateTime<Utc>> {
    let tokens: Vec<&str> = s.split_whitespace().collect();
    if tokens.len() < 5 {
        return None;
    }
    let mon = month(tokens[1])?;
    let day: u32 = tokens[2].parse().ok()?;
    let t = time(tokens[3])?;
    let (offset, yr) =
        if tokens.len() >= 6 { (zone(tokens[4]).unwrap_or(0), tokens[5]) } else { (0, tokens[4]) };
    at(NaiveDate::from_ymd_opt(year(yr)?, mon, day)?, t, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> String {
        parse(s).map(|d| d.to_rfc3339()).unwrap_or_else(|| "none".into())
    }

    #[test]
    fn feedparser_date_forms() {
        assert_eq!(iso("Thu, 01 Jan 2004 19:48:21 GMT"), "2004-01-01T19:48:21+00:00");
        assert_eq!(iso("Thu, 01 Jan 04 19:48:21 EST"), "2004-01-02T00:48:21+00:00");
        assert_eq!(iso("01 Jan 2004 19:48 +0100"), "2004-01-01T18:48:00+00:00");
        assert_eq!(iso("Thu, 1 Jan 2004"), "2004-01-01T00:00:00+00:00");
        assert_eq!(iso("2003-12-31T10:14:55Z"), "2003-12-31T10:14:55+00:00");
        assert_eq!(iso("2003-12-31T10:14:55.123-08:00"), "2003-12-31T18:14:55.123+00:00");
        assert_eq!(iso("2003-12-31"), "2003-12-31T00:00:00+00:00");
        assert_eq!(iso("2003-12"), "2003-12-01T00:00:00+00:00");
        assert_eq!(iso("20031231T101455Z"), "2003-12-31T10:14:55+00:00");
        assert_eq!(iso("2003-12-31 10:14:55"), "2003-12-31T10:14:55+00:00");
        assert_eq!(iso("Sun Jan  4 16:29:06 PST 2004"), "2004-01-05T00:29:06+00:00");
        assert_eq!(iso("Sat, Dec 16 2023 02:02:33 PM"), "2023-12-16T14:02:33+00:00");
        for s in [
            "",
            "garbage",
            "2004-99-99",
            "Thu, 99 Foo 2004",
            "9999999999999",
            "2004-01-01T25:00",
            "262142-12-31T23:59:59-23:59",
            "2004-01-01T00:00:00.99999999999999Z",
        ] {
            let _ = parse(s);
        }
    }
}
