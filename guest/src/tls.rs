//! TLS for `wait https://...`: a stream over a [`TcpStream`] through
//! BearSSL (guest/bearssl, driven by csrc/tls.c, compiled by build.rs).
//!
//! The server's certificate chain is validated against the container's CA
//! bundle (`$SSL_CERT_FILE`, else the first of [`CA_FILES`] that exists, as
//! curl and Go look for it) and must name the URL's host; `--insecure` skips
//! both, as curl's does. BearSSL speaks TLS 1.2 (not 1.3): a server that only
//! accepts TLS 1.3 fails the handshake with a message saying so.

use std::ffi::{CString, c_int, c_void};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::ptr::NonNull;

use crate::http::{Connection, find};

/// Where CA bundles are (Debian/Ubuntu/Alpine, Fedora/RHEL, openSUSE), as
/// Go's crypto/x509 looks for them.
pub const CA_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The C session (csrc/tls.c); only ever behind a pointer.
#[repr(C)]
struct Session {
    _private: [u8; 0],
}

type ReadFn = unsafe extern "C" fn(*mut c_void, *mut u8, usize) -> c_int;
type WriteFn = unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int;

unsafe extern "C" {
    fn mg_tls_new() -> *mut Session;
    fn mg_tls_free(tls: *mut Session);
    fn mg_tls_add_anchor(tls: *mut Session, der: *const u8, len: usize) -> c_int;
    #[allow(clippy::too_many_arguments)]
    fn mg_tls_start(
        tls: *mut Session,
        server_name: *const std::ffi::c_char,
        insecure: c_int,
        seed: *const u8,
        seed_len: usize,
        rd: ReadFn,
        rd_ctx: *mut c_void,
        wr: WriteFn,
        wr_ctx: *mut c_void,
    ) -> c_int;
    fn mg_tls_write(tls: *mut Session, data: *const u8, len: usize) -> c_int;
    fn mg_tls_read(tls: *mut Session, data: *mut u8, len: usize) -> c_int;
    fn mg_tls_error(tls: *mut Session) -> c_int;
}

/// The TCP side, reached from BearSSL's callbacks.
struct Transport {
    tcp: TcpStream,
    /// Why the last TCP read or write failed (a timeout, a reset).
    error: Option<io::Error>,
    /// The peer closed the TCP connection.
    eof: bool,
}

/// An established-on-first-use TLS client stream.
pub struct TlsStream {
    session: NonNull<Session>,
    /// Boxed: the C side keeps its address.
    transport: Box<Transport>,
}

impl Drop for TlsStream {
    fn drop(&mut self) {
        // SAFETY: the session came from mg_tls_new and is freed once, here.
        unsafe { mg_tls_free(self.session.as_ptr()) }
    }
}

/// How the trust anchors were loaded.
pub enum Trust {
    /// The certificates (DER) of a CA bundle.
    Anchors(Vec<Vec<u8>>),
    /// `--insecure`: no validation at all.
    Insecure,
}

/// Reads the CA bundle: `$SSL_CERT_FILE`, else the first of [`CA_FILES`].
pub fn load_trust(insecure: bool) -> Result<Trust, String> {
    if insecure {
        return Ok(Trust::Insecure);
    }
    let path = match std::env::var_os("SSL_CERT_FILE") {
        Some(path) => path.into(),
        None => CA_FILES
            .iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.is_file())
            .ok_or_else(|| {
                format!(
                    "no CA bundle to verify the server with (looked for $SSL_CERT_FILE, {}); \
                     install ca-certificates in the image or pass --insecure",
                    CA_FILES.join(", ")
                )
            })?,
    };
    let text = std::fs::read(&path)
        .map_err(|e| format!("cannot read the CA bundle {}: {e}", path.display()))?;
    let anchors = pem_certificates(&text);
    if anchors.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(Trust::Anchors(anchors))
}

/// The DER bytes of every `CERTIFICATE` block of a PEM file.
pub fn pem_certificates(text: &[u8]) -> Vec<Vec<u8>> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find(rest, BEGIN) {
        rest = &rest[start + BEGIN.len()..];
        let Some(end) = find(rest, END) else { break };
        if let Some(der) = base64(&rest[..end]) {
            out.push(der);
        }
        rest = &rest[end + END.len()..];
    }
    out
}

/// Standard base64 (whitespace ignored); `None` for anything else.
fn base64(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in text {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// What BearSSL's error code `code` (`BR_ERR_*`) means, for a person.
pub fn reason(code: c_int) -> String {
    let text = match code {
        3 | 4 => {
            "handshake failed: the server speaks no TLS version this client does \
             (TLS 1.2; TLS 1.3-only servers are not supported), or no TLS at all"
        }
        16 => {
            "handshake failed: the server chose no cipher suite this client offers (ECDHE with AES-GCM)"
        }
        27 | 52 => "bad certificate: a signature does not verify",
        49 => "bad certificate: an unsupported algorithm (e.g. a SHA-1 signature)",
        54 => "bad certificate: expired or not yet valid",
        56 => "certificate name mismatch: the server's certificate does not name the URL's host",
        58 => "bad certificate: its chain goes through a certificate that is no CA",
        62 => "bad certificate: not trusted (no CA of the bundle signed its chain)",
        32..=63 => return format!("bad certificate (BearSSL X.509 error {code})"),
        326 => {
            "the server refused the handshake (TLS alert 70, protocol version: \
             it wants TLS 1.3, this client speaks TLS 1.2)"
        }
        296 => {
            "the server refused the handshake (TLS alert 40: no cipher suite or curve \
             in common; this client offers ECDHE with AES-GCM)"
        }
        256..=511 => {
            return format!(
                "the server refused the handshake (TLS alert {})",
                code - 256
            );
        }
        512..=767 => return format!("handshake failed (sent TLS alert {})", code - 512),
        _ => return format!("handshake failed (BearSSL error {code})"),
    };
    text.to_owned()
}

/// 32 bytes from the kernel's random source, to seed BearSSL's generator.
fn seed() -> io::Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    // SAFETY: `seed` is valid for writes of its length.
    let n = unsafe { libc::getrandom(seed.as_mut_ptr().cast(), seed.len(), 0) };
    if n == seed.len() as isize {
        Ok(seed)
    } else {
        Err(io::Error::last_os_error())
    }
}

unsafe extern "C" fn low_read(ctx: *mut c_void, buf: *mut u8, len: usize) -> c_int {
    // SAFETY: `ctx` is the `Transport` box of a live `TlsStream` (the only
    // caller is BearSSL inside that stream's calls), and BearSSL passes a
    // buffer of `len` writable bytes.
    let (transport, buf) = unsafe {
        (
            &mut *ctx.cast::<Transport>(),
            std::slice::from_raw_parts_mut(buf, len),
        )
    };
    match transport.tcp.read(buf) {
        Ok(0) => {
            transport.eof = true;
            -1
        }
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(error) => {
            transport.error = Some(error);
            -1
        }
    }
}

unsafe extern "C" fn low_write(ctx: *mut c_void, buf: *const u8, len: usize) -> c_int {
    // SAFETY: as in `low_read`; the buffer holds `len` readable bytes.
    let (transport, buf) = unsafe {
        (
            &mut *ctx.cast::<Transport>(),
            std::slice::from_raw_parts(buf, len),
        )
    };
    match transport.tcp.write(buf) {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(error) => {
            transport.error = Some(error);
            -1
        }
    }
}

impl TlsStream {
    /// Sets up a client for `host` over `tcp`; the handshake happens on the
    /// first write.
    pub fn new(tcp: TcpStream, host: &str, trust: &Trust) -> io::Result<TlsStream> {
        let name = CString::new(host).map_err(|_| io::Error::other("a NUL in the host name"))?;
        // SAFETY: mg_tls_new has no preconditions; NULL means no memory.
        let session = NonNull::new(unsafe { mg_tls_new() })
            .ok_or_else(|| io::Error::other("out of memory"))?;
        let mut stream = TlsStream {
            session,
            transport: Box::new(Transport {
                tcp,
                error: None,
                eof: false,
            }),
        };
        let insecure = match trust {
            Trust::Insecure => 1,
            Trust::Anchors(anchors) => {
                for der in anchors {
                    // SAFETY: the session is live; `der` is valid for its
                    // length (BearSSL copies what it keeps).
                    if unsafe { mg_tls_add_anchor(session.as_ptr(), der.as_ptr(), der.len()) } == -2
                    {
                        return Err(io::Error::other("out of memory"));
                    }
                }
                0
            }
        };
        let seed = seed()?;
        let ctx: *mut Transport = &mut *stream.transport;
        // SAFETY: the session is live; `name` and `seed` outlive the call
        // (BearSSL copies both); `ctx` points into the box that the stream
        // owns for as long as the session, whose callbacks are the only
        // users of it.
        let started = unsafe {
            mg_tls_start(
                session.as_ptr(),
                name.as_ptr(),
                insecure,
                seed.as_ptr(),
                seed.len(),
                low_read,
                ctx.cast(),
                low_write,
                ctx.cast(),
            )
        };
        if started != 0 {
            return Err(stream.failure());
        }
        Ok(stream)
    }

    /// Why the last call failed: the TCP error, or BearSSL's reason.
    fn failure(&mut self) -> io::Error {
        if let Some(error) = self.transport.error.take() {
            return error;
        }
        // SAFETY: the session is live.
        let code = unsafe { mg_tls_error(self.session.as_ptr()) };
        // BR_ERR_IO after the peer's close: nothing more to say than that.
        if self.transport.eof && (code == 0 || code == 31) {
            return io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "TLS: the server closed the connection",
            );
        }
        io::Error::other(format!("TLS: {}", reason(code)))
    }
}

impl Connection for TlsStream {
    fn tcp(&self) -> &TcpStream {
        &self.transport.tcp
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: the session is live; `buf` is writable for its length.
        let n = unsafe { mg_tls_read(self.session.as_ptr(), buf.as_mut_ptr(), buf.len()) };
        if n > 0 {
            return Ok(n as usize);
        }
        // SAFETY: the session is live.
        let code = unsafe { mg_tls_error(self.session.as_ptr()) };
        // A clean close_notify, or a TCP close after the handshake (many
        // servers skip close_notify): the end of the body.
        if code == 0 || (self.transport.eof && code == 31) {
            return Ok(0);
        }
        Err(self.failure())
    }
}

impl Write for TlsStream {
    /// Writes and flushes all of `buf` (HTTP sends one request).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // SAFETY: the session is live; `buf` is readable for its length.
        if unsafe { mg_tls_write(self.session.as_ptr(), buf.as_ptr(), buf.len()) } < 0 {
            return Err(self.failure());
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_decode_to_der() {
        let pem = b"junk\n-----BEGIN CERTIFICATE-----\nTWFu\naGVsbG8=\n-----END CERTIFICATE-----\n\
            -----BEGIN CERTIFICATE-----\r\nAQID\r\n-----END CERTIFICATE-----\r\n\
            -----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert_eq!(
            pem_certificates(pem),
            vec![b"Manhello".to_vec(), vec![1, 2, 3]]
        );
        assert!(pem_certificates(b"-----BEGIN CERTIFICATE-----\nAQID").is_empty());
    }

    #[test]
    fn error_codes_name_the_failure() {
        assert!(reason(62).contains("not trusted"));
        assert!(reason(56).contains("name mismatch"));
        assert!(reason(54).contains("expired"));
        assert!(reason(4).contains("TLS 1.2"));
        assert!(reason(40).contains("X.509 error 40"));
        assert!(reason(7).contains("error 7"));
        assert!(reason(256 + 40).contains("alert 40"));
        assert!(reason(256 + 70).contains("TLS 1.3"));
        assert!(reason(256 + 42).contains("alert 42"));
    }
}
