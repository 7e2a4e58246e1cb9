//! Docker's timestamps (`2026-11-27T11:22:53.123456789Z`, always UTC) as
//! seconds since the epoch, without a date library.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// MaestroNG's `time_ago` without its leading ` for `: `42s`, `3m2s`,
/// `1h5m`, `2d3h4m`.
pub fn uptime(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{}m", s / 3600, (s % 3600) / 60)
    } else {
        format!(
            "{}d{}h{}m",
            s / 86_400,
            (s % 86_400) / 3600,
            (s % 3600) / 60
        )
    }
}

/// Seconds since the epoch of an RFC 3339 UTC timestamp as the daemon writes
/// it (`Z` or a `+00:00` style offset; fractions ignored); `None` when it is
/// not one.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let (date, rest) = s.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    let time_end = rest.find(['Z', 'z', '+', '-', '.']).unwrap_or(rest.len());
    let mut t = rest[..time_end].splitn(3, ':');
    let h: i64 = t.next()?.parse().ok()?;
    let m: i64 = t.next()?.parse().ok()?;
    let sec: i64 = t.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // The offset, if any, after the fraction.
    let tail = &rest[time_end..];
    let tail = tail.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match tail {
        "" | "Z" | "z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o.get(1..)?.split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// well-known algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Now, in seconds since the epoch.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Time from the timestamp `s` until `now` (`None` when unreadable or in
/// the future, as MaestroNG shows nothing then).
pub fn since(s: &str, now: i64) -> Option<Duration> {
    let t = parse_rfc3339(s)?;
    (now >= t).then(|| Duration::from_secs((now - t) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-27T11:22:53.123456789Z"),
            Some(1_795_778_573)
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T12:00:00+01:00"),
            Some(951_822_000)
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T12:00:00.5-00:30"),
            Some(951_827_400)
        );
        assert_eq!(parse_rfc3339("not a time"), None);
        assert_eq!(parse_rfc3339("2000-13-01T00:00:00Z"), None);
        assert_eq!(since("1970-01-01T00:03:02Z", 182), Some(Duration::ZERO));
        assert_eq!(
            since("1970-01-01T00:00:00Z", 182),
            Some(Duration::from_secs(182))
        );
        assert_eq!(since("1970-01-01T00:10:00Z", 182), None);
    }
}
