//! The guest's view of its network: its own address, and host names
//! through the system resolver. The static binary is built on musl, whose
//! `getaddrinfo` reads `/etc/hosts` and then asks the DNS servers of
//! `/etc/resolv.conf` (Docker's embedded DNS on a user-defined network)
//! without NSS modules. Where the resolver cannot work (a static glibc
//! build has no NSS modules to load), `/etc/hosts` is read directly.

use std::io;
use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};

/// `get_container_internal_address()`: the first IPv4 address of
/// `interface`, read with getifaddrs(3) (guestutils uses netifaces, which
/// lists addresses in the same order). Queries and templates use it.
pub fn internal_address(interface: &str) -> Result<Ipv4Addr, String> {
    let addresses =
        nix::ifaddrs::getifaddrs().map_err(|e| format!("cannot list network interfaces: {e}"))?;
    let mut found = false;
    for entry in addresses.filter(|a| a.interface_name == interface) {
        found = true;
        let ipv4 = entry
            .address
            .as_ref()
            .and_then(|a| a.as_sockaddr_in())
            .map(|a| a.ip());
        if let Some(ip) = ipv4 {
            return Ok(ip);
        }
    }
    Err(if found {
        format!("network interface {interface} has no IPv4 address")
    } else {
        format!("no network interface {interface}")
    })
}

/// Every address of `host`: an IP literal as it is, a name through the
/// system resolver (`getaddrinfo`), else from `/etc/hosts`.
pub fn resolve_all(host: &str) -> io::Result<Vec<IpAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let resolved = (host, 0).to_socket_addrs().map(|addresses| {
        let mut ips: Vec<IpAddr> = Vec::new();
        for address in addresses {
            if !ips.contains(&address.ip()) {
                ips.push(address.ip());
            }
        }
        ips
    });
    match resolved {
        Ok(ips) if !ips.is_empty() => Ok(ips),
        other => {
            let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
            match lookup_hosts_file(&hosts, host) {
                Some(ip) => Ok(vec![ip]),
                None => Err(other
                    .err()
                    .unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))),
            }
        }
    }
}

/// One address for `host`, IPv4 first as `socket.gethostbyname` gives it.
pub fn resolve_host(host: &str) -> Option<IpAddr> {
    let ips = resolve_all(host).ok()?;
    ips.iter().find(|ip| ip.is_ipv4()).or(ips.first()).copied()
}

/// Looks `name` up in the text of an `/etc/hosts` file (case-insensitive,
/// `#` comments, first match wins as in glibc).
pub fn lookup_hosts_file(hosts: &str, name: &str) -> Option<IpAddr> {
    hosts.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_whitespace();
        let ip = fields.next()?.parse::<IpAddr>().ok()?;
        fields
            .any(|alias| alias.eq_ignore_ascii_case(name))
            .then_some(ip)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_an_ipv4_address() {
        assert_eq!(
            internal_address("lo"),
            Ok(Ipv4Addr::LOCALHOST),
            "every Linux network namespace has lo with 127.0.0.1"
        );
    }

    #[test]
    fn a_missing_interface_is_a_clear_error() {
        assert_eq!(
            internal_address("no-such-if0"),
            Err("no network interface no-such-if0".to_owned())
        );
    }

    #[test]
    fn names_resolve_through_the_system_resolver() {
        assert_eq!(
            resolve_host("localhost").map(|ip| ip.is_loopback()),
            Some(true)
        );
        assert_eq!(resolve_host("10.1.2.3"), Some("10.1.2.3".parse().unwrap()));
        assert!(resolve_all("no-such-host.invalid").is_err());
    }

    #[test]
    fn hosts_file_lookup_follows_glibc_rules() {
        let hosts = "# comment\n127.0.0.1 localhost\n::1 localhost ip6-localhost\n10.0.0.7 Ship2 ship2.local # x\nbad line\n";
        assert_eq!(
            lookup_hosts_file(hosts, "localhost"),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(
            lookup_hosts_file(hosts, "ship2"),
            Some("10.0.0.7".parse().unwrap())
        );
        assert_eq!(
            lookup_hosts_file(hosts, "ip6-localhost"),
            Some("::1".parse().unwrap())
        );
        assert_eq!(lookup_hosts_file(hosts, "x"), None);
        assert_eq!(lookup_hosts_file(hosts, "comment"), None);
    }
}
