//! Compose's small syntaxes: port mappings, volume specs, durations.

/// A published port, compose's `[IP:][HOST:]CONTAINER[/PROTO]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMap {
    /// The container side (`80`, `8080-8081`).
    pub target: String,
    /// The host side; `None` when compose would pick a free port.
    pub published: Option<String>,
    /// The host address to bind.
    pub host_ip: Option<String>,
    /// `tcp` or `udp`.
    pub protocol: String,
}

fn is_port_range(s: &str) -> bool {
    let ok = |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('-') {
        Some((a, b)) => ok(a) && ok(b),
        None => ok(s),
    }
}

/// Reads the short port syntax.
pub fn parse_port(spec: &str) -> Result<PortMap, String> {
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((r, p)) if p == "tcp" || p == "udp" => (r, p.to_owned()),
        Some((_, p)) => return Err(format!("unknown protocol {p:?} (maestro has tcp and udp)")),
        None => (spec, "tcp".to_owned()),
    };
    // `[::1]:80:80`: an IPv6 host address in brackets.
    let (host_ip, rest) = match rest.strip_prefix('[') {
        Some(r) => {
            let (ip, after) = r.split_once("]:").ok_or("unclosed [ in the host address")?;
            (Some(ip.to_owned()), after)
        }
        None => (None, rest),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, published, target) = match (host_ip, parts.as_slice()) {
        (None, [t]) => (None, None, *t),
        (None, [h, t]) => (None, Some(*h), *t),
        (None, [ip, h, t]) => (Some((*ip).to_owned()), Some(*h), *t),
        (Some(ip), [h, t]) => (Some(ip), Some(*h), *t),
        _ => return Err("expected [IP:][HOST:]CONTAINER[/PROTOCOL]".into()),
    };
    let published = published.filter(|h| !h.is_empty());
    for side in std::iter::once(target).chain(published) {
        if !is_port_range(side) {
            return Err(format!("{side:?} is not a port or a range"));
        }
    }
    Ok(PortMap {
        target: target.to_owned(),
        published: published.map(str::to_owned),
        host_ip: ip,
        protocol,
    })
}

/// A volume in the short syntax: `SOURCE:TARGET[:MODE]` or `TARGET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    /// A path (bind mount) or a name (named volume); `None`: anonymous.
    pub source: Option<String>,
    /// The path in the container.
    pub target: String,
    /// The options after the second colon (`ro`, `rw,z`).
    pub mode: Option<String>,
}

/// Reads the short volume syntax.
pub fn parse_volume(spec: &str) -> Result<VolumeSpec, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let v = match parts.as_slice() {
        [t] => VolumeSpec {
            source: None,
            target: (*t).to_owned(),
            mode: None,
        },
        [s, t] => VolumeSpec {
            source: Some((*s).to_owned()),
            target: (*t).to_owned(),
            mode: None,
        },
        [s, t, m] => VolumeSpec {
            source: Some((*s).to_owned()),
            target: (*t).to_owned(),
            mode: Some((*m).to_owned()),
        },
        _ => return Err("expected SOURCE:TARGET[:MODE] or TARGET".into()),
    };
    if v.target.is_empty() || v.source.as_deref() == Some("") {
        return Err("a volume needs a target (and a source before the colon)".into());
    }
    Ok(v)
}

/// Whether a volume source is a path (a bind mount), not a volume name.
pub fn is_path(source: &str) -> bool {
    source.starts_with('/') || source.starts_with('.') || source.starts_with('~')
}

/// A compose duration (`1m30s`, `10s`, `500ms`, `1h`, `1.5s`) in
/// milliseconds, read by the parser the loader reads healthcheck durations
/// with, so what import-compose accepts the loader accepts too.
pub fn duration_ms(text: &str) -> Option<u64> {
    crate::config::parse_duration(text).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_in_every_short_form() {
        let p = |s: &str| parse_port(s).unwrap();
        assert_eq!(p("3000").published, None);
        let m = p("8000:80");
        assert_eq!(
            (m.target.as_str(), m.published.as_deref()),
            ("80", Some("8000"))
        );
        let m = p("127.0.0.1:8001:8001/udp");
        assert_eq!(m.host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(m.protocol, "udp");
        let m = p("127.0.0.1::5000");
        assert_eq!(
            (m.published, m.host_ip.as_deref()),
            (None, Some("127.0.0.1"))
        );
        let m = p("[::1]:6001:6001");
        assert_eq!(m.host_ip.as_deref(), Some("::1"));
        assert_eq!(p("9090-9091:8080-8081").target, "8080-8081");
        for bad in ["80/sctp", "a:80", "1:2:3:4", "[::1:80", "http"] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn volumes_and_durations() {
        let v = parse_volume("./data:/data:ro").unwrap();
        assert_eq!(
            (v.source.as_deref(), v.target.as_str(), v.mode.as_deref()),
            (Some("./data"), "/data", Some("ro"))
        );
        assert_eq!(parse_volume("/cache").unwrap().source, None);
        assert!(parse_volume("a:b:c:d").is_err());
        assert!(is_path("~/x") && is_path("./x") && !is_path("dbdata"));
        assert_eq!(duration_ms("1m30s"), Some(90_000));
        assert_eq!(duration_ms("500ms"), Some(500));
        assert_eq!(duration_ms("1.5s"), Some(1500));
        assert_eq!(duration_ms("1h"), Some(3_600_000));
        assert_eq!(duration_ms("10"), Some(10_000));
        assert_eq!(duration_ms("10x"), None);
        assert_eq!(duration_ms("s"), None);
    }
}
