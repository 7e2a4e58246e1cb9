//! Just enough HTTP/1.1 for `wait http://...` and `https://...`: one `GET`
//! over a fresh connection (TLS by crate::tls), the status and the
//! (de-chunked) body back.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// The most of a body kept for `--match` (the rest is read and dropped).
const BODY_LIMIT: usize = 1 << 20;
/// The most the status line and headers may take.
const HEAD_LIMIT: usize = 64 << 10;

/// An `http://` or `https://` URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `https://`: the exchange goes through TLS.
    pub tls: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// The port, 80 (443 for https) when not given.
    pub port: u16,
    /// Path and query, at least `/`.
    pub path: String,
}

impl Url {
    /// Parses `http[s]://HOST[:PORT][/PATH][?QUERY]`; credentials in the
    /// URL are refused with an explanation.
    pub fn parse(text: &str) -> Result<Url, String> {
        let lower = text.to_ascii_lowercase();
        let tls = lower.starts_with("https://");
        let Some(rest) =
            (tls || lower.starts_with("http://")).then(|| &text[7 + usize::from(tls)..])
        else {
            return Err("not an http:// or https:// URL".to_owned());
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let path = path.split('#').next().unwrap_or("");
        if authority.contains('@') {
            return Err("credentials in the URL are not supported".to_owned());
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
                (host, after.strip_prefix(':'))
            }
            None => match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        if host.is_empty() {
            return Err("no host in the URL".to_owned());
        }
        let port = match port {
            None | Some("") => default_port(tls),
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| format!("{port:?} is not a port number"))?,
        };
        let path = if path.is_empty() {
            "/".to_owned()
        } else if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        Ok(Url {
            tls,
            host: host.to_owned(),
            port,
            path,
        })
    }

    /// The `Host` header's value.
    fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default_port(self.tls) {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// What came back.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body (its first [`BODY_LIMIT`] bytes), de-chunked.
    pub body: Vec<u8>,
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// The port a URL that names none means: 80, or 443 for https.
fn default_port(tls: bool) -> u16 {
    if tls { 443 } else { 80 }
}

/// A connection to GET over: plain TCP or TLS over it.
pub trait Connection: Read + Write {
    /// The TCP stream underneath, for its timeouts.
    fn tcp(&self) -> &TcpStream;
}

impl Connection for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

/// Sends `GET url` on `stream` and reads the answer, giving up at `deadline`.
pub fn get(stream: &mut dyn Connection, url: &Url, deadline: Instant) -> io::Result<Response> {
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: maestro-guest\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path,
        url.host_header()
    );
    let timeout = |s: &dyn Connection| {
        let s = s.tcp();
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
        }
        s.set_read_timeout(Some(left))?;
        s.set_write_timeout(Some(left))
    };
    timeout(stream)?;
    stream.write_all(request.as_bytes())?;
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    let mut kept_all = true;
    let head_end = loop {
        if let Some(at) = find(&data, b"\r\n\r\n") {
            break at + 4;
        }
        if data.len() > HEAD_LIMIT {
            return Err(bad("the response headers are too long"));
        }
        timeout(stream)?;
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Err(bad("the connection closed before a complete HTTP response"));
        }
        data.extend_from_slice(&buffer[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let status = parse_status(&head).ok_or_else(|| bad("not an HTTP response"))?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_ascii_lowercase())
        })
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let length: Option<usize> = header("content-length").and_then(|v| v.parse().ok());
    let mut body = data.split_off(head_end);
    loop {
        let complete = if chunked {
            dechunk(&body).is_some()
        } else {
            length.is_some_and(|length| body.len() >= length)
        };
        if complete {
            break;
        }
        timeout(stream)?;
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        if body.len() < BODY_LIMIT + HEAD_LIMIT {
            body.extend_from_slice(&buffer[..n]);
        } else {
            kept_all = false;
        }
    }
    let mut body = if chunked && kept_all {
        dechunk(&body).ok_or_else(|| bad("a broken chunked body"))?
    } else {
        body
    };
    if let Some(length) = length {
        body.truncate(length);
    }
    body.truncate(BODY_LIMIT);
    Ok(Response { status, body })
}

/// The code of `HTTP/1.x NNN reason`.
fn parse_status(head: &str) -> Option<u16> {
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    parts.next()?.starts_with("HTTP/").then_some(())?;
    let code = parts.next()?;
    (code.len() == 3).then_some(())?;
    code.parse().ok()
}

/// Where `needle` first starts in `data`.
pub fn find(data: &[u8], needle: &[u8]) -> Option<usize> {
    data.windows(needle.len()).position(|w| w == needle)
}

/// The body of a complete chunked encoding; `None` while incomplete.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(data, b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size_text = size_text.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        if data.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_host_port_and_path() {
        let url = Url::parse("http://api:8080/health?x=1").unwrap();
        assert_eq!(
            url,
            Url {
                tls: false,
                host: "api".into(),
                port: 8080,
                path: "/health?x=1".into()
            }
        );
        assert_eq!(url.host_header(), "api:8080");
        let url = Url::parse("HTTP://[::1]/").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 80));
        assert_eq!(url.host_header(), "[::1]");
        assert_eq!(Url::parse("http://web").unwrap().path, "/");
        assert_eq!(Url::parse("http://web?q").unwrap().path, "/?q");
        let url = Url::parse("https://web.example/x").unwrap();
        assert!(url.tls);
        assert_eq!((url.port, url.host_header()), (443, "web.example".into()));
        let url = Url::parse("HTTPS://web:8443").unwrap();
        assert_eq!(
            (url.tls, url.port, url.host_header()),
            (true, 8443, "web:8443".into())
        );
        // The Host header drops only the scheme's own default port.
        assert_eq!(
            Url::parse("http://web:443").unwrap().host_header(),
            "web:443"
        );
        assert_eq!(
            Url::parse("https://web:80").unwrap().host_header(),
            "web:80"
        );
        assert_eq!(Url::parse("https://web:443").unwrap().host_header(), "web");
        assert!(Url::parse("ftp://web").unwrap_err().contains("not an http"));
        assert!(
            Url::parse("http://u:p@web")
                .unwrap_err()
                .contains("credentials")
        );
        assert!(Url::parse("http://web:x/").unwrap_err().contains("port"));
        assert!(Url::parse("http:///x").unwrap_err().contains("no host"));
    }

    #[test]
    fn status_lines_and_chunked_bodies_parse() {
        assert_eq!(parse_status("HTTP/1.1 204 No Content\r\n"), Some(204));
        assert_eq!(parse_status("HTTP/1.0 200\r\n"), Some(200));
        assert_eq!(parse_status("SSH-2.0-x\r\n"), None);
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n").as_deref(),
            Some(&b"Wikipedia"[..])
        );
        assert_eq!(dechunk(b"4\r\nWi"), None);
    }
}
