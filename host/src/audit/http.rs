//! One HTTP(S) request for the `http` and `slack` auditors, on the hyper and
//! rustls the host already carries for Docker (no extra client library).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A request to send.
#[derive(Clone)]
pub struct Request {
    /// GET or POST.
    pub method: &'static str,
    /// The full URL (may hold a secret: never printed).
    pub url: String,
    /// Headers in order; a later one with the same name replaces an earlier one.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body (at most what arrived within the timeout).
    pub body: Vec<u8>,
}

/// Why a request got no usable answer; the text never contains the URL's
/// path or query, nor any header value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// Sends `req` and reads the answer, all within `timeout`.
pub async fn send(req: Request, timeout: Duration) -> Result<Response, SendError> {
    match tokio::time::timeout(timeout, exchange(req)).await {
        Ok(r) => r.map_err(SendError),
        Err(_) => Err(SendError(format!(
            "no answer within {}s",
            timeout.as_secs_f64()
        ))),
    }
}

async fn exchange(req: Request) -> Result<Response, String> {
    let uri: hyper::Uri = req.url.parse().map_err(|_| "invalid URL".to_owned())?;
    let mut builder = hyper::Request::builder()
        .method(req.method)
        .uri(uri.clone());
    let mut headers = hyper::HeaderMap::new();
    for (name, value) in &req.headers {
        let name = hyper::header::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let value = hyper::header::HeaderValue::from_str(value)
            .map_err(|_| format!("invalid value for header {name}"))?;
        headers.insert(name, value);
    }
    if let Some(h) = builder.headers_mut() {
        *h = headers;
    }
    let request = builder
        .body(Full::new(Bytes::from(req.body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let response = if uri.scheme_str() == Some("https") {
        let tls = tls_config()?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        Client::builder(TokioExecutor::new())
            .build(connector)
            .request(request)
            .await
    } else {
        Client::builder(TokioExecutor::new())
            .build_http()
            .request(request)
            .await
    }
    .map_err(|e| describe(&e))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    Ok(Response { status, body })
}

/// The client error and its causes, without the URL.
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The system's roots, as for a verified TLS ship.
fn tls_config() -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(native.certs);
    if added == 0 {
        return Err("HTTPS: the system has no CA certificates".into());
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
