//! Docker's timestamps (`2026-11-27T11:22:53.123456789Z`, RFC 3339, UTC) as
//! seconds and nanoseconds since the epoch, without a date library: `status`
//! shows uptimes from them, and a health wait asks the daemon for the events
//! since a container started.

/// Seconds since the epoch and the nanoseconds within that second of an RFC
/// 3339 timestamp as the daemon writes it (`Z` or a `+00:00` style offset, a
/// fraction of up to nine digits); `None` when it is not one.
pub fn parse_rfc3339(s: &str) -> Option<(i64, u32)> {
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
    // The fraction, then the offset, if any.
    let mut tail = &rest[time_end..];
    let mut nanos = 0u32;
    if let Some(fraction) = tail.strip_prefix('.') {
        let digits = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        let padded = format!("{:0<9}", &fraction[..digits.min(9)]);
        nanos = padded.parse().ok()?;
        tail = &fraction[digits..];
    }
    let offset = match tail {
        "" | "Z" | "z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o.get(1..)?.split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec - offset;
    Some((secs, nanos))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_timestamps_with_their_fraction() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(
            parse_rfc3339("2026-11-27T11:22:53.123456789Z"),
            Some((1_795_778_573, 123_456_789))
        );
        assert_eq!(
            parse_rfc3339("2026-11-27T11:22:53.5Z"),
            Some((1_795_778_573, 500_000_000))
        );
        assert_eq!(
            parse_rfc3339("2000-02-29T12:00:00.5-00:30"),
            Some((951_827_400, 500_000_000))
        );
        assert_eq!(parse_rfc3339("not a time"), None);
        assert_eq!(parse_rfc3339("2000-13-01T00:00:00Z"), None);
    }
}
