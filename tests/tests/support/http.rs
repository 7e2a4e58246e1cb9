//! A plain HTTP/1.0 GET over a raw socket: the scenarios check that a published port
//! answers, and one request needs no HTTP client dependency.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use maestro_e2e::{Docker, poll};

/// `GET path` over HTTP/1.0 to `addr:port` (2 s to connect, 3 s to read): the whole
/// response, head included, or `None` if nothing answered.
pub fn http_response(addr: &str, port: u16, path: &str) -> Option<String> {
    let to = (addr, port).to_socket_addrs().ok()?.next()?;
    let mut stream = TcpStream::connect_timeout(&to, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// The body of [`http_response`], or `None` if nothing answered with a head.
pub fn http_body(addr: &str, port: u16, path: &str) -> Option<String> {
    http_response(addr, port, path)?
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
}

/// `wget http://HOST:PORT/` inside `container` (under `timeout`: this busybox's
/// `wget -T` crashes), retried for 15 s while the server comes up: the page, or the
/// last error.
pub fn fetch_inside(
    docker: &Docker,
    container: &str,
    host: &str,
    port: u16,
) -> Result<String, String> {
    let url = format!("http://{host}:{port}/");
    let mut last = String::new();
    poll(Duration::from_secs(15), || {
        match docker.try_run(["exec", container, "timeout", "5", "wget", "-q", "-O-", &url]) {
            Ok(page) => Some(page),
            Err(e) => {
                last = e;
                None
            }
        }
    })
    .ok_or(last)
}
