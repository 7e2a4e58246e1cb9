//! A fault-injecting HTTP proxy on loopback in front of the testbed registry:
//! it answers `500 Internal Server Error` to the first N manifest requests and
//! forwards everything else, one request per connection (`Connection: close`),
//! counting what it sees. The main dockerd treats `127.0.0.0/8` registries as
//! insecure (plain HTTP), so an image named `127.0.0.1:PORT/...` is pulled
//! through it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The proxy; its thread lives as long as the test process.
pub struct FaultyRegistry {
    /// The loopback port it listens on.
    pub port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    manifests: Arc<AtomicUsize>,
    fail_first: usize,
}

impl FaultyRegistry {
    /// Listens on a free loopback port, forwarding to `upstream` (`host:port`),
    /// failing the first `fail_first` manifest requests with a 500.
    pub fn start(upstream: &str, fail_first: usize) -> FaultyRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the proxy");
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let manifests = Arc::new(AtomicUsize::new(0));
        let (s, m, up) = (seen.clone(), manifests.clone(), upstream.to_owned());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (s, m, up) = (s.clone(), m.clone(), up.clone());
                std::thread::spawn(move || {
                    let _ = serve(client, &up, fail_first, &s, &m);
                });
            }
        });
        FaultyRegistry {
            port,
            seen,
            manifests,
            fail_first,
        }
    }

    /// How many manifest requests (GET or HEAD `/v2/.../manifests/...`) arrived.
    pub fn manifest_requests(&self) -> usize {
        self.manifests.load(Ordering::SeqCst)
    }

    /// How many manifest requests were answered 500 by the proxy itself.
    pub fn injected(&self) -> usize {
        self.manifest_requests().min(self.fail_first)
    }

    /// Every request so far, as `METHOD PATH -> STATUS` (for failure messages).
    pub fn log(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(
    client: TcpStream,
    upstream: &str,
    fail_first: usize,
    seen: &Mutex<Vec<String>>,
    manifests: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut head = request_line.clone();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        head.push_str(&line);
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut words = request_line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let mut client = client;
    if path.contains("/manifests/") {
        let n = manifests.fetch_add(1, Ordering::SeqCst);
        if n < fail_first {
            seen.lock()
                .unwrap()
                .push(format!("{method} {path} -> 500 (injected)"));
            let body = "injected fault\n";
            write!(
                client,
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            return Ok(());
        }
    }
    seen.lock()
        .unwrap()
        .push(format!("{method} {path} -> forwarded"));
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(head.as_bytes())?;
    up.write_all(&body)?;
    std::io::copy(&mut up, &mut client)?;
    Ok(())
}
