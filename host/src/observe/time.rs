//! Uptimes from Docker's timestamps (read by `crate::timestamp`).

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
/// it (fractions dropped); `None` when it is not one.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    crate::timestamp::parse_rfc3339(s).map(|(secs, _)| secs)
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
