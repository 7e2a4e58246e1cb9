//! The `http` check, as MaestroNG 0.8.3's `requests.request(method, url, **options)`:
//! redirects followed (up to 30, the method rewritten as `requests` does), basic
//! authentication, headers, a client certificate, `verify`, `timeout`.
//!
//! The TLS client configuration is the costly part (the system's roots are read and
//! parsed): [`TlsConfigs`] builds it once per play and distinct (`verify`, `cert`) and
//! every attempt of every container's check reuses it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::docker::TlsSetupError;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;

use crate::config::model::{ClientCert, HttpOptions, MatchRegex, Verify};
use crate::spec::TlsSettings;

/// The least time an exchange without `timeout` is given.
const MIN_EXCHANGE: Duration = Duration::from_secs(1);

/// `requests`' `Session.max_redirects`.
pub const MAX_REDIRECTS: usize = 30;

/// What the TLS configuration is built from (`verify` resolved against the environment).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TlsKey {
    /// `None` = the system's roots; `Some(path)` = a CA bundle file or directory.
    roots: Option<PathBuf>,
    verify: bool,
    cert: Option<ClientCert>,
}

/// The TLS client configurations of one play, one per distinct (`verify`, `cert`):
/// built on first use, shared by every attempt and container after that.
#[derive(Default)]
pub struct TlsConfigs {
    built: Mutex<HashMap<TlsKey, Result<Arc<ClientConfig>, TlsSetupError>>>,
    builds: AtomicUsize,
}

impl TlsConfigs {
    /// An empty cache (one per play).
    pub fn new() -> TlsConfigs {
        TlsConfigs::default()
    }

    /// How many configurations were built (for tests of the sharing).
    pub fn builds(&self) -> usize {
        self.builds.load(Ordering::Relaxed)
    }

    /// The configuration for `verify` and `cert`, built the first time it is asked for.
    /// A configuration that cannot be built (a missing file) stays an error for the play.
    pub fn get(
        &self,
        verify: &Verify,
        cert: Option<&ClientCert>,
    ) -> Result<Arc<ClientConfig>, TlsSetupError> {
        let key = TlsKey {
            roots: match verify {
                Verify::Bundle(p) => Some(p.clone()),
                Verify::Off => None,
                // requests (trust_env): these variables replace its default bundle.
                Verify::Default => ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"]
                    .iter()
                    .find_map(|v| std::env::var_os(v).filter(|s| !s.is_empty()))
                    .map(PathBuf::from),
            },
            verify: *verify != Verify::Off,
            cert: cert.cloned(),
        };
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        built
            .entry(key)
            .or_insert_with_key(|key| {
                self.builds.fetch_add(1, Ordering::Relaxed);
                build(key).map(Arc::new)
            })
            .clone()
    }
}

fn build(key: &TlsKey) -> Result<ClientConfig, TlsSetupError> {
    let settings = TlsSettings {
        ca_cert: key.roots.clone().filter(|_| key.verify),
        client_cert: key.cert.as_ref().map(|c| c.cert.clone()),
        client_key: key
            .cert
            .as_ref()
            .map(|c| c.key.clone().unwrap_or_else(|| c.cert.clone())),
        verify: key.verify,
        server_name: None,
    };
    crate::docker::tls_client_config(&settings)
}

/// One check's request, resolved against its target.
pub(super) struct Request<'a> {
    /// The first URL.
    pub url: Uri,
    /// The method, upper case.
    pub method: Method,
    /// The compiled `match_regex`.
    pub regex: Option<&'a MatchRegex>,
    /// The `requests_options`.
    pub options: &'a HttpOptions,
}

/// The clients of one check run: plain HTTP always, HTTPS once a URL needs it.
pub(super) struct Clients<'a> {
    tls: &'a TlsConfigs,
    options: &'a HttpOptions,
    connector: HttpConnector,
    http: Client<HttpConnector, Empty<Bytes>>,
    https: Mutex<Option<Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>>>,
}

fn secs(s: Option<f64>) -> Option<Duration> {
    s.map(|s| Duration::from_secs_f64(s.min(1e9)))
}

impl<'a> Clients<'a> {
    /// Clients honouring the options' connect timeout; no connection is kept between
    /// attempts (requests opens a new session every attempt).
    pub fn new(tls: &'a TlsConfigs, options: &'a HttpOptions) -> Clients<'a> {
        let mut connector = HttpConnector::new();
        connector.enforce_http(false);
        connector.set_connect_timeout(secs(options.timeout.and_then(|t| t.connect)));
        let http = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector.clone());
        Clients {
            tls,
            options,
            connector,
            http,
            https: Mutex::new(None),
        }
    }

    /// Builds the HTTPS client now (an unusable TLS configuration fails the check at
    /// once rather than at every attempt).
    pub fn prepare_https(&self) -> Result<(), TlsSetupError> {
        let mut slot = self.https.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            let config = self
                .tls
                .get(&self.options.verify, self.options.cert.as_ref())?;
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config((*config).clone())
                .https_or_http()
                .enable_http1()
                .wrap_connector(self.connector.clone());
            *slot = Some(
                Client::builder(TokioExecutor::new())
                    .pool_max_idle_per_host(0)
                    .build(connector),
            );
        }
        Ok(())
    }

    async fn send(
        &self,
        request: hyper::Request<Empty<Bytes>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, String> {
        let https = request.uri().scheme_str() == Some("https");
        let response = if https {
            self.prepare_https().map_err(|e| e.to_string())?;
            let client = self
                .https
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .ok_or("no HTTPS client")?;
            client.request(request).await
        } else {
            self.http.request(request).await
        };
        response.map_err(|e| super::chain(&e))
    }
}

/// One attempt: the request and the redirects it leads to, then the verdict on the
/// last response. Without a `timeout`, the rest of the check's window (1 s at least,
/// so the last attempt has a fair chance to say what is wrong) bounds each exchange.
pub(super) async fn attempt(
    clients: &Clients<'_>,
    req: &Request<'_>,
    limit: Duration,
) -> Result<(), String> {
    let options = req.options;
    let limit = limit.max(MIN_EXCHANGE);
    let mut url = req.url.clone();
    let mut method = req.method.clone();
    let mut send_auth = true;
    let mut redirects = 0;
    loop {
        // However the server dribbles its body, an exchange ends within the window
        // plus the `timeout` it may overrun it by (0.8.3 starts an attempt until
        // `max_wait` has passed, and an attempt lasts up to its `timeout`).
        let overall = limit
            + options.timeout.map_or(Duration::ZERO, |t| {
                secs(t.connect).unwrap_or_default() + secs(t.read).unwrap_or_default()
            });
        let (status, headers, body) = within(
            Some(overall),
            exchange(clients, &url, &method, send_auth, options, limit),
        )
        .await??;
        let location = headers
            .get(hyper::header::LOCATION)
            .filter(|_| options.allow_redirects && is_redirect(status));
        if let Some(location) = location {
            let next = resolve(&url, location.as_bytes())
                .map_err(|e| format!("status {status} with a bad Location: {e}"))?;
            if redirects == MAX_REDIRECTS {
                return Err(format!(
                    "more than {MAX_REDIRECTS} redirects (the last from {url} to {next})"
                ));
            }
            redirects += 1;
            method = redirected_method(status, method);
            send_auth = send_auth && !strip_auth(&url, &next);
            url = next;
            continue;
        }
        let at = if redirects > 0 {
            format!(" (at {url} after {redirects} redirect(s))")
        } else {
            String::new()
        };
        return match req.regex {
            Some(re) => {
                let text = decode(&headers, &body);
                // 0.8.3 tests `response.text` for truth first: an empty body never matches.
                let found = !text.is_empty()
                    && re
                        .search(&text)
                        .map_err(|e| format!("status {status}, regex gave up: {e}{at}"))?;
                if found {
                    Ok(())
                } else {
                    Err(format!(
                        "status {status}, body does not match {:?}{at}",
                        re.pattern()
                    ))
                }
            }
            None if status == StatusCode::OK => Ok(()),
            None => Err(format!("status {status}{at}")),
        };
    }
}

async fn exchange(
    clients: &Clients<'_>,
    url: &Uri,
    method: &Method,
    send_auth: bool,
    options: &HttpOptions,
    limit: Duration,
) -> Result<(StatusCode, HeaderMap, Bytes), String> {
    let mut headers = HeaderMap::new();
    headers.insert(
        hyper::header::USER_AGENT,
        hyper::header::HeaderValue::from_static("maestro"),
    );
    headers.insert(
        hyper::header::ACCEPT,
        hyper::header::HeaderValue::from_static("*/*"),
    );
    for h in &options.headers {
        // Validated at load; a name or value hyper refuses here is skipped.
        let Ok(name) = hyper::header::HeaderName::from_bytes(h.name.as_bytes()) else {
            continue;
        };
        match &h.value {
            None => {
                headers.remove(&name);
            }
            Some(v) => {
                if let Ok(mut value) = hyper::header::HeaderValue::from_str(v.expose()) {
                    value.set_sensitive(!h.shown());
                    headers.insert(name, value);
                }
            }
        }
    }
    if !send_auth {
        headers.remove(hyper::header::AUTHORIZATION);
    } else if let Some(auth) = &options.auth {
        let token = base64(format!("{}:{}", auth.username, auth.password.expose()).as_bytes());
        let mut value = hyper::header::HeaderValue::from_str(&format!("Basic {token}"))
            .map_err(|_| "the basic auth credentials are not valid in a header".to_owned())?;
        value.set_sensitive(true);
        headers.insert(hyper::header::AUTHORIZATION, value);
    }
    let mut request = hyper::Request::builder()
        .method(method.clone())
        .uri(url.clone())
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    *request.headers_mut() = headers;
    let timeout = options.timeout;
    let read = secs(timeout.and_then(|t| t.read));
    let connect = secs(timeout.and_then(|t| t.connect));
    // Without a timeout the rest of the check's window bounds the exchange (requests
    // would wait for ever); with one, the head may take connect + read.
    let head_limit = match (timeout, connect, read) {
        (None, _, _) => Some(limit),
        (Some(_), Some(c), Some(r)) => Some(c + r),
        (Some(_), _, _) => None,
    };
    let body_limit = if timeout.is_none() { Some(limit) } else { read };
    let response = within(head_limit, clients.send(request)).await??;
    let status = response.status();
    let (parts, mut body) = response.into_parts();
    let mut collected = Vec::new();
    loop {
        match within(body_limit, body.frame()).await? {
            None => break,
            Some(frame) => {
                let frame = frame.map_err(|e| format!("reading the body: {e}"))?;
                if let Ok(data) = frame.into_data() {
                    collected.extend_from_slice(&data);
                }
            }
        }
    }
    Ok((status, parts.headers, Bytes::from(collected)))
}

async fn within<T>(
    limit: Option<Duration>,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, String> {
    match limit {
        None => Ok(fut.await),
        Some(limit) => {
            let limit = limit.max(Duration::from_millis(100));
            tokio::time::timeout(limit, fut)
                .await
                .map_err(|_| format!("no answer within {}ms", limit.as_millis()))
        }
    }
}

/// `requests`' `is_redirect`: one of these statuses (and a `Location`).
fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// `requests`' `rebuild_method`: 303 makes anything but HEAD a GET, so does 302
/// (browsers do), 301 turns POST only into GET; 307 and 308 keep the method.
fn redirected_method(status: StatusCode, method: Method) -> Method {
    match status.as_u16() {
        303 | 302 if method != Method::HEAD => Method::GET,
        301 if method == Method::POST => Method::GET,
        _ => method,
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// `requests`' `should_strip_auth`: credentials are not sent to another host, port or
/// scheme, except from http on its default port to https on its own.
fn strip_auth(old: &Uri, new: &Uri) -> bool {
    if old.host() != new.host() {
        return true;
    }
    let (os, ns) = (
        old.scheme_str().unwrap_or(""),
        new.scheme_str().unwrap_or(""),
    );
    let (op, np) = (
        old.port_u16().or(default_port(os)),
        new.port_u16().or(default_port(ns)),
    );
    if os == "http" && op == Some(80) && ns == "https" && np == Some(443) {
        return false;
    }
    os != ns || op != np
}

/// The URL a `Location` leads to, relative references resolved against `base`
/// (RFC 3986 §5.2, as `urljoin`); bytes a URI may not hold are percent-encoded.
fn resolve(base: &Uri, location: &[u8]) -> Result<Uri, String> {
    let mut loc = String::new();
    for &b in location {
        if b.is_ascii_graphic() {
            loc.push(b as char);
        } else {
            loc.push_str(&format!("%{b:02X}"));
        }
    }
    // A fragment is never sent.
    if let Some(i) = loc.find('#') {
        loc.truncate(i);
    }
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map_or("", |a| a.as_str());
    let target = if let Some(rest) = loc.strip_prefix("//") {
        format!("{scheme}://{rest}")
    } else if has_scheme(&loc) {
        loc
    } else if loc.starts_with('/') {
        let (path, query) = split_query(&loc);
        format!("{scheme}://{authority}{}{query}", remove_dots(path))
    } else if loc.is_empty() {
        base.to_string()
    } else if loc.starts_with('?') {
        format!("{scheme}://{authority}{}{loc}", base.path())
    } else {
        let dir = base.path().rsplit_once('/').map_or("", |(d, _)| d);
        let (path, query) = split_query(&loc);
        format!(
            "{scheme}://{authority}{}{query}",
            remove_dots(&format!("{dir}/{path}"))
        )
    };
    let uri: Uri = target.parse().map_err(|e| format!("{target}: {e}"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.authority().is_some() => Ok(uri),
        _ => Err(format!("{target}: not an http or https URL")),
    }
}

/// `url` with `query` added as `requests` adds `params` (after an `&` when the URL
/// has a query already); characters a URI may not hold are percent-encoded.
pub(super) fn with_query(url: &str, query: &str) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let (base, existing) = split_query(url);
    let existing = existing.trim_start_matches('?');
    let mut out = String::from(base);
    out.push('?');
    if !existing.is_empty() {
        out.push_str(existing);
        out.push('&');
    }
    for b in query.bytes() {
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn has_scheme(s: &str) -> bool {
    match s.find(':') {
        Some(i) if i > 0 => {
            let scheme = &s[..i];
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        _ => false,
    }
}

fn split_query(s: &str) -> (&str, &str) {
    match s.find('?') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

/// RFC 3986 §5.2.4: `.` and `..` segments removed.
fn remove_dots(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// `response.text` as `requests` decodes it: the `charset` of `Content-Type`, else
/// ISO-8859-1 for `text/*`, else UTF-8 (requests guesses; UTF-8 is its usual guess).
fn decode(headers: &HeaderMap, body: &[u8]) -> String {
    let content_type = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let charset = content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim() == "charset").then(|| v.trim().trim_matches(['"', '\'']).to_owned())
    });
    let latin1 = match charset.as_deref() {
        Some("iso-8859-1" | "latin-1" | "latin1" | "l1" | "iso8859-1") => true,
        Some(_) => false,
        None => content_type.contains("text"),
    };
    if latin1 {
        body.iter().map(|&b| char::from(b)).collect()
    } else {
        String::from_utf8_lossy(body).into_owned()
    }
}

/// Standard base64 (for the basic auth header).
fn base64(input: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn locations_resolve_as_urljoin() {
        let base = uri("http://h:8/a/b/c?q=1");
        for (loc, want) in [
            ("/x", "http://h:8/x"),
            ("x", "http://h:8/a/b/x"),
            ("../x?y=2", "http://h:8/a/x?y=2"),
            ("./", "http://h:8/a/b/"),
            ("?z", "http://h:8/a/b/c?z"),
            ("//other:9/p", "http://other:9/p"),
            ("https://s/t#frag", "https://s/t"),
            ("/a b", "http://h:8/a%20b"),
        ] {
            assert_eq!(
                resolve(&base, loc.as_bytes()).unwrap().to_string(),
                want,
                "{loc}"
            );
        }
        assert!(resolve(&base, b"ftp://h/x").is_err());
    }

    #[test]
    fn params_join_the_query_as_requests_does() {
        assert_eq!(with_query("http://h/p", "a=b"), "http://h/p?a=b");
        assert_eq!(
            with_query("http://h/p?a=1", "x=1&y"),
            "http://h/p?a=1&x=1&y"
        );
        assert_eq!(with_query("http://h/p?a=1", "x y"), "http://h/p?a=1&x%20y");
        assert_eq!(with_query("http://h/p?", "a=b"), "http://h/p?a=b");
        assert_eq!(with_query("http://h/p", ""), "http://h/p");
    }

    #[test]
    fn methods_and_auth_follow_requests() {
        use StatusCode as S;
        let m = |s: u16, m: Method| redirected_method(S::from_u16(s).unwrap(), m);
        assert_eq!(m(302, Method::POST), Method::GET);
        assert_eq!(m(302, Method::HEAD), Method::HEAD);
        assert_eq!(m(303, Method::PUT), Method::GET);
        assert_eq!(m(301, Method::POST), Method::GET);
        assert_eq!(m(301, Method::PUT), Method::PUT);
        assert_eq!(m(307, Method::POST), Method::POST);
        assert_eq!(m(308, Method::DELETE), Method::DELETE);
        assert!(!strip_auth(&uri("http://h/a"), &uri("http://h:80/b")));
        assert!(!strip_auth(&uri("http://h/a"), &uri("https://h/b")));
        assert!(strip_auth(&uri("http://h/a"), &uri("http://g/b")));
        assert!(strip_auth(&uri("http://h:1/a"), &uri("http://h:2/b")));
        assert!(strip_auth(&uri("https://h/a"), &uri("http://h/b")));
    }

    #[test]
    fn base64_and_text() {
        assert_eq!(base64(b"u:p"), "dTpw");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"ab"), "YWI=");
        let mut h = HeaderMap::new();
        h.insert(hyper::header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert_eq!(decode(&h, "é".as_bytes()), "Ã©");
        h.insert(
            hyper::header::CONTENT_TYPE,
            "text/plain; charset=UTF-8".parse().unwrap(),
        );
        assert_eq!(decode(&h, "é".as_bytes()), "é");
    }

    #[test]
    fn tls_configs_are_built_once_per_combination() {
        let configs = TlsConfigs::new();
        let off = Verify::Off;
        let a = configs.get(&off, None).unwrap();
        let b = configs.get(&off, None).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(configs.builds(), 1);
        let missing = Verify::Bundle("/nonexistent/ca.pem".into());
        let e1 = configs.get(&missing, None).unwrap_err();
        let e2 = configs.get(&missing, None).unwrap_err();
        assert_eq!(e1, e2);
        assert!(e1.to_string().contains("/nonexistent/ca.pem"), "{e1}");
        assert_eq!(configs.builds(), 2);
    }
}
