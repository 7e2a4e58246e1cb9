//! The `http` lifecycle check's `match_regex` and `requests_options`, read when the file
//! loads (reference §7).
//!
//! MaestroNG 0.8.3 compiles `match_regex` with Python's `re` (DOTALL) in the check's
//! constructor, at load, and passes `requests_options` untouched to
//! `requests.request(method, url, **options)` at every attempt, swallowing whatever it
//! raises. A key `requests` does not know, or a value it cannot use, therefore makes the
//! check fail every attempt until `max_wait`: those are configuration errors here. Keys
//! `requests` accepts but maestro does not implement get a warning and are ignored.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::error::ConfigError;
use super::read::{Ctx, Entries, join};
use super::yaml::{Node, PyScalar, Value, node_str};
use crate::spec::Secret;

/// Why a `match_regex` does not compile, or could not be searched to the end
/// (a backtracking limit): the reason in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RegexError(pub String);

impl From<String> for RegexError {
    fn from(message: String) -> Self {
        RegexError(message)
    }
}

/// `match_regex`: the pattern as written (Python `re` syntax) and its compiled form,
/// so a bad pattern is reported at load rather than after `max_wait`.
#[derive(Clone)]
pub struct MatchRegex {
    pattern: String,
    regex: Arc<fancy_regex::Regex>,
}

impl MatchRegex {
    /// Compiles a Python `re` pattern with DOTALL, as 0.8.3's `re.compile(p, re.DOTALL)`.
    pub fn new(pattern: &str) -> Result<MatchRegex, RegexError> {
        Self::compile(pattern).map_err(RegexError)
    }

    fn compile(pattern: &str) -> Result<MatchRegex, String> {
        let translated = python_to_fancy(pattern);
        let regex = fancy_regex::RegexBuilder::new(&format!("(?s){translated}"))
            .build()
            .map_err(|e| match e {
                // The position is in the rewritten pattern: not worth showing.
                fancy_regex::Error::ParseError(_, kind) => kind.to_string(),
                other => other.to_string(),
            })?;
        Ok(MatchRegex {
            pattern: pattern.to_owned(),
            regex: Arc::new(regex),
        })
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Python's `search`: whether the pattern matches anywhere in `text`. An error when
    /// the backtracking engine gives up (a pathological pattern), which counts as no match.
    pub fn search(&self, text: &str) -> Result<bool, RegexError> {
        self.search_text(text).map_err(RegexError)
    }

    fn search_text(&self, text: &str) -> Result<bool, String> {
        self.regex.is_match(text).map_err(|e| e.to_string())
    }
}

impl PartialEq for MatchRegex {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl std::fmt::Debug for MatchRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.pattern.fmt(f)
    }
}

impl Serialize for MatchRegex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.pattern)
    }
}

/// Rewrites the parts of a Python `re` pattern that fancy-regex reads differently:
/// `\Z` (Python: the very end), octal escapes (`\0`, `\012`), `$` outside a class without MULTILINE (Python: the end
/// or before a final newline), `{` that does not open a quantifier and a stray `}`
/// (Python: literals), `{,n}` (Python: `{0,n}`), and `[`, `&`, `~` inside a class
/// (Python: literals; the regex crate: nested classes and set operations).
fn python_to_fancy(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let multiline = global_flags(pattern).contains('m');
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let octal = |j: usize| chars.get(j).is_some_and(|c| ('0'..='7').contains(c));
                // Python's octal escapes: `\0`, `\0N`, `\0NN`, or three octal digits.
                let digits = match chars.get(i + 1) {
                    Some('0') => {
                        1 + usize::from(octal(i + 2)) + usize::from(octal(i + 2) && octal(i + 3))
                    }
                    Some(_) if octal(i + 1) && octal(i + 2) && octal(i + 3) => 3,
                    _ => 0,
                };
                if digits > 0 {
                    let text: String = chars[i + 1..i + 1 + digits].iter().collect();
                    let code = u32::from_str_radix(&text, 8).unwrap_or(0);
                    out.push_str(&format!("\\x{{{code:X}}}"));
                    i += 1 + digits;
                    continue;
                }
                match chars.get(i + 1) {
                    Some('Z') => out.push_str("\\z"),
                    Some(n) => {
                        out.push('\\');
                        out.push(*n);
                    }
                    None => out.push('\\'),
                }
                i += 2;
            }
            '[' => {
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // A `]` first in a class is a literal in both syntaxes.
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                while i < chars.len() && chars[i] != ']' {
                    match chars[i] {
                        '\\' => {
                            out.push('\\');
                            if let Some(n) = chars.get(i + 1) {
                                out.push(*n);
                            }
                            i += 2;
                            continue;
                        }
                        '[' | '&' | '~' => {
                            out.push('\\');
                            out.push(chars[i]);
                        }
                        other => out.push(other),
                    }
                    i += 1;
                }
                if i < chars.len() {
                    out.push(']');
                    i += 1;
                }
            }
            '$' if !multiline => {
                out.push_str("(?:\\z|(?=\\n\\z))");
                i += 1;
            }
            '{' => match quantifier(&chars[i..]) {
                Some((len, rewritten)) => {
                    out.push_str(&rewritten);
                    i += len;
                }
                None => {
                    out.push_str("\\{");
                    i += 1;
                }
            },
            '}' => {
                out.push_str("\\}");
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    out
}

/// The flags of a leading `(?flags)` group (Python's global flags).
fn global_flags(pattern: &str) -> &str {
    pattern
        .strip_prefix("(?")
        .and_then(|rest| {
            let end = rest.find(')')?;
            let flags = &rest[..end];
            flags
                .chars()
                .all(|c| "aiLmsux".contains(c))
                .then_some(flags)
        })
        .unwrap_or("")
}

/// A Python quantifier at the start of `chars` (`{m}`, `{m,}`, `{,n}`, `{m,n}`, `{,}`):
/// its length and its rewriting for fancy-regex (`{,n}` becomes `{0,n}`).
fn quantifier(chars: &[char]) -> Option<(usize, String)> {
    let close = chars.iter().position(|c| *c == '}')?;
    let inner: String = chars[1..close].iter().collect();
    if inner.is_empty() || !inner.chars().all(|c| c.is_ascii_digit() || c == ',') {
        return None;
    }
    let rewritten = match inner.split_once(',') {
        None => inner.clone(),
        Some((_, max)) if max.contains(',') => return None,
        Some(("", max)) => format!("0,{max}"),
        Some(_) => inner.clone(),
    };
    Some((close + 1, format!("{{{rewritten}}}")))
}

/// The `requests_options` maestro implements (what `requests.request` takes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpOptions {
    /// `auth: [user, password]`: HTTP basic authentication.
    pub auth: Option<BasicAuth>,
    /// `headers`: sent on top of (or, with a null value, instead of) the defaults.
    pub headers: Vec<HttpField>,
    /// `cert`: the client certificate.
    pub cert: Option<ClientCert>,
    /// `verify`: how the server certificate is checked.
    pub verify: Verify,
    /// `timeout`.
    pub timeout: Option<HttpTimeout>,
    /// `allow_redirects` (default true; up to 30 redirects, as `requests`).
    pub allow_redirects: bool,
    /// `params`: added to the first URL's query.
    pub params: Option<HttpParams>,
}

/// `params`, as `requests` takes them from YAML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpParams {
    /// A string: the query text itself.
    Text(String),
    /// A mapping: name/value pairs (a list value gives one pair per item), form-encoded.
    Pairs(Vec<HttpField>),
}

impl HttpParams {
    /// The query text `requests` makes of them (`urlencode` with `quote_plus`).
    pub fn encode(&self) -> String {
        match self {
            HttpParams::Text(t) => t.clone(),
            HttpParams::Pairs(pairs) => pairs
                .iter()
                .filter_map(|p| {
                    let v = p.value.as_ref()?;
                    Some(format!(
                        "{}={}",
                        quote_plus(&p.name),
                        quote_plus(v.expose())
                    ))
                })
                .collect::<Vec<_>>()
                .join("&"),
        }
    }
}

/// Python's `urllib.parse.quote_plus`: unreserved characters kept, space as `+`,
/// the rest percent-encoded as UTF-8.
fn quote_plus(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            auth: None,
            headers: Vec::new(),
            cert: None,
            verify: Verify::Default,
            timeout: None,
            allow_redirects: true,
            params: None,
        }
    }
}

/// HTTP basic credentials; the password is never printed (`Debug` shows `***`, JSON
/// `<redacted>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    #[serde(serialize_with = "redacted")]
    pub password: Secret,
}

fn redacted<S: Serializer>(_: &Secret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("<redacted>")
}

/// One `headers` or `params` entry. A header's value may be `None` to drop a default
/// header (`requests` drops a header whose value is `None`).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpField {
    /// Name as written.
    pub name: String,
    /// Value; `None` removes the header.
    pub value: Option<Secret>,
}

impl HttpField {
    /// Whether the value may be shown: not for headers that usually carry
    /// credentials (authorization, cookies, tokens, keys, secrets, passwords).
    pub fn shown(&self) -> bool {
        let name = self.name.to_ascii_lowercase();
        ![
            "auth", "cookie", "token", "key", "secret", "pass", "session",
        ]
        .iter()
        .any(|w| name.contains(w))
    }

    fn shown_value(&self) -> Option<&str> {
        self.value.as_ref().map(|v| {
            if self.shown() {
                v.expose()
            } else {
                "<redacted>"
            }
        })
    }
}

impl std::fmt::Debug for HttpField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {:?}", self.name, self.shown_value())
    }
}

impl Serialize for HttpField {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("HttpField", 2)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("value", &self.shown_value())?;
        st.end()
    }
}

/// `cert`: one PEM file holding the certificate and its key, or the two files.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ClientCert {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// The private key (PEM); `None` = in `cert`'s file.
    pub key: Option<PathBuf>,
}

/// `verify`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verify {
    /// Verify against the default roots (`requests`: `REQUESTS_CA_BUNDLE` or
    /// `CURL_CA_BUNDLE` when set, else its bundle; maestro: those, else the system's).
    Default,
    /// `verify: false`: accept any server certificate.
    Off,
    /// `verify: PATH`: a CA bundle file or a directory of CA certificates.
    Bundle(PathBuf),
}

/// `timeout`: bounds of one request, `None` = unbounded (`requests`' `None`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HttpTimeout {
    /// Seconds to connect.
    pub connect: Option<f64>,
    /// Seconds to wait for the response and between two reads of its body.
    pub read: Option<f64>,
}

/// `requests.request` keywords maestro does not implement: warned about and ignored.
const IGNORED: &[&str] = &[
    "data", "json", "cookies", "files", "proxies", "hooks", "stream",
];
/// `requests.request` keywords maestro implements.
const KNOWN: &[&str] = &[
    "auth",
    "headers",
    "cert",
    "verify",
    "timeout",
    "allow_redirects",
    "params",
];

/// Reads `match_regex`: a string compiled as a Python pattern; an error at the node.
pub(super) fn match_regex(
    ctx: &Ctx,
    node: Option<&Node>,
    path: &str,
) -> Result<Option<MatchRegex>, ConfigError> {
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return Ok(None);
    };
    let pattern = ctx.string(node, path)?;
    // 0.8.3 tests `if match_regex:`: an empty pattern means none.
    if pattern.is_empty() {
        return Ok(None);
    }
    MatchRegex::new(&pattern)
        .map(Some)
        .map_err(|e| ctx.err(Some(node), path, format!("bad regex {pattern:?}: {e}")))
}

/// Reads `scheme`: `http` (default) or `https`, in any case; anything else makes
/// `requests` refuse every attempt in 0.8.3, so it is an error here.
pub(super) fn scheme(ctx: &Ctx, node: Option<&Node>, path: &str) -> Result<String, ConfigError> {
    let scheme = ctx.opt_string(node, path)?.unwrap_or_else(|| "http".into());
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => Ok(scheme),
        _ => Err(ctx.err(
            node,
            path,
            format!("invalid scheme {scheme:?} (expected http or https)"),
        )),
    }
}

/// Reads `method` (default `get`): any HTTP token, sent upper-cased as `requests` does.
pub(super) fn method(ctx: &Ctx, node: Option<&Node>, path: &str) -> Result<String, ConfigError> {
    let method = ctx.opt_string(node, path)?.unwrap_or_else(|| "get".into());
    match hyper::Method::from_bytes(method.to_ascii_uppercase().as_bytes()) {
        Ok(_) if !method.is_empty() => Ok(method),
        _ => Err(ctx.err(node, path, format!("invalid HTTP method {method:?}"))),
    }
}

/// Reads `requests_options` (a mapping; null = none).
pub(super) fn requests_options(
    ctx: &mut Ctx,
    node: Option<&Node>,
    path: &str,
) -> Result<HttpOptions, ConfigError> {
    let mut out = HttpOptions::default();
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return Ok(out);
    };
    let entries: &Entries = ctx.map(node, path)?;
    for (k, v) in entries {
        let key = node_str(k);
        let kpath = join(path, &key);
        if IGNORED.contains(&key.as_str()) {
            ctx.warn(
                k,
                &kpath,
                format!("requests option {key:?} is not supported by maestro (ignored)"),
            );
            continue;
        }
        if !KNOWN.contains(&key.as_str()) {
            return Err(ctx.err(
                Some(k),
                &kpath,
                format!(
                    "unknown requests option {key:?} (MaestroNG 0.8.3 passes it to requests, which refuses it at every attempt); maestro supports {}",
                    KNOWN.join(", ")
                ),
            ));
        }
        if v.is_null() && key != "allow_redirects" {
            continue; // requests' None: the default.
        }
        match key.as_str() {
            "auth" => out.auth = Some(auth(ctx, v, &kpath)?),
            "headers" => out.headers = headers(ctx, v, &kpath)?,
            "cert" => out.cert = Some(cert(ctx, v, &kpath)?),
            "verify" => out.verify = verify(ctx, v, &kpath)?,
            "timeout" => out.timeout = Some(timeout(ctx, v, &kpath)?),
            "params" => out.params = params(ctx, v, &kpath)?,
            _ => out.allow_redirects = ctx.flag(Some(v), &kpath),
        }
    }
    Ok(out)
}

/// A list of exactly two scalars.
fn pair<'n>(
    ctx: &Ctx,
    node: &'n Node,
    path: &str,
    what: &str,
) -> Result<[&'n Node; 2], ConfigError> {
    match &node.value {
        Value::Seq(items) if items.len() == 2 => Ok([&items[0], &items[1]]),
        _ => Err(ctx.err(
            Some(node),
            path,
            format!("expected {what}, found {}", describe(node)),
        )),
    }
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::Seq(items) => format!("a list of {}", items.len()),
        _ => node.type_name().to_owned(),
    }
}

fn auth(ctx: &Ctx, node: &Node, path: &str) -> Result<BasicAuth, ConfigError> {
    let [user, password] = pair(ctx, node, path, "[user, password]")?;
    let username = ctx.string(user, &format!("{path}[0]"))?;
    // Never echo the password: only its type may appear in an error.
    let password = match &password.value {
        Value::Scalar(s) if s.value != PyScalar::None => Secret::new(s.value.py_str()),
        _ => {
            return Err(ctx.err(
                Some(password),
                &format!("{path}[1]"),
                format!("expected a string, found {}", password.type_name()),
            ));
        }
    };
    Ok(BasicAuth { username, password })
}

fn headers(ctx: &Ctx, node: &Node, path: &str) -> Result<Vec<HttpField>, ConfigError> {
    let entries = ctx.map(node, path)?;
    let mut out = Vec::new();
    for (k, v) in entries {
        let name = node_str(k);
        let hpath = join(path, &name);
        if !matches!(k.scalar().map(|s| &s.value), Some(PyScalar::Str(_)))
            || hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err()
        {
            return Err(ctx.err(Some(k), &hpath, format!("invalid header name {name:?}")));
        }
        let value = match &v.value {
            _ if v.is_null() => None,
            Value::Scalar(s) => match &s.value {
                PyScalar::Str(text) => {
                    if hyper::header::HeaderValue::from_str(text).is_err()
                        || text.starts_with([' ', '\t'])
                    {
                        return Err(ctx.err(
                            Some(v),
                            &hpath,
                            "invalid header value (control characters or leading whitespace)",
                        ));
                    }
                    Some(Secret::new(text.clone()))
                }
                other => {
                    return Err(ctx.err(
                        Some(v),
                        &hpath,
                        format!(
                            "expected a string header value, found {} (quote it: requests accepts only strings)",
                            other.type_name()
                        ),
                    ));
                }
            },
            _ => {
                return Err(ctx.err(
                    Some(v),
                    &hpath,
                    format!("expected a string header value, found {}", v.type_name()),
                ));
            }
        };
        out.retain(|h: &HttpField| !h.name.eq_ignore_ascii_case(&name));
        out.push(HttpField { name, value });
    }
    Ok(out)
}

/// `params`: a string, or a mapping of scalars or lists of scalars (`None` items are
/// left out, as `requests` leaves them out).
fn params(ctx: &Ctx, node: &Node, path: &str) -> Result<Option<HttpParams>, ConfigError> {
    if let Value::Scalar(s) = &node.value {
        return Ok(match &s.value {
            PyScalar::Str(t) if t.is_empty() => None,
            PyScalar::Str(t) => Some(HttpParams::Text(t.clone())),
            other => {
                return Err(ctx.err(
                    Some(node),
                    path,
                    format!(
                        "expected a mapping or a string, found {}",
                        other.type_name()
                    ),
                ));
            }
        });
    }
    let mut pairs = Vec::new();
    for (k, v) in ctx.map(node, path)? {
        let name = node_str(k);
        let ppath = join(path, &name);
        let items: Vec<&Node> = match &v.value {
            Value::Seq(items) => items.iter().collect(),
            Value::Scalar(_) => vec![v],
            Value::Map(_) => {
                return Err(ctx.err(
                    Some(v),
                    &ppath,
                    "expected a value or a list of values, found dict",
                ));
            }
        };
        for item in items {
            match &item.value {
                Value::Scalar(s) if s.value == PyScalar::None => {}
                Value::Scalar(s) => pairs.push(HttpField {
                    name: name.clone(),
                    value: Some(Secret::new(s.value.py_str())),
                }),
                _ => {
                    return Err(ctx.err(
                        Some(item),
                        &ppath,
                        format!("expected a value, found {}", item.type_name()),
                    ));
                }
            }
        }
    }
    Ok((!pairs.is_empty()).then_some(HttpParams::Pairs(pairs)))
}

fn cert(ctx: &Ctx, node: &Node, path: &str) -> Result<ClientCert, ConfigError> {
    if let Value::Scalar(_) = node.value {
        return Ok(ClientCert {
            cert: ctx.string(node, path)?.into(),
            key: None,
        });
    }
    let [c, k] = pair(ctx, node, path, "a path or [cert, key]")?;
    Ok(ClientCert {
        cert: ctx.string(c, &format!("{path}[0]"))?.into(),
        key: Some(ctx.string(k, &format!("{path}[1]"))?.into()),
    })
}

fn verify(ctx: &Ctx, node: &Node, path: &str) -> Result<Verify, ConfigError> {
    match node.scalar().map(|s| &s.value) {
        Some(PyScalar::Bool(true)) => Ok(Verify::Default),
        Some(PyScalar::Bool(false)) => Ok(Verify::Off),
        Some(PyScalar::Str(p)) if p.is_empty() => Ok(Verify::Off),
        Some(PyScalar::Str(p)) => Ok(Verify::Bundle(p.into())),
        _ => Err(ctx.err(
            Some(node),
            path,
            format!(
                "expected true, false or a CA bundle path, found {}",
                node.type_name()
            ),
        )),
    }
}

fn seconds(ctx: &Ctx, node: &Node, path: &str) -> Result<Option<f64>, ConfigError> {
    let value = match node.scalar().map(|s| &s.value) {
        Some(PyScalar::None) => return Ok(None),
        Some(PyScalar::Float(f)) => Some(*f),
        Some(PyScalar::Int(_)) => ctx.int(node, path).ok().map(|n| n as f64),
        _ => None,
    };
    match value {
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(s)),
        Some(_) => Err(ctx.err(
            Some(node),
            path,
            "a timeout must be a number of seconds greater than 0",
        )),
        None => Err(ctx.err(
            Some(node),
            path,
            format!("expected a number of seconds, found {}", node.type_name()),
        )),
    }
}

fn timeout(ctx: &Ctx, node: &Node, path: &str) -> Result<HttpTimeout, ConfigError> {
    if let Value::Seq(_) = node.value {
        let [c, r] = pair(ctx, node, path, "seconds or [connect, read]")?;
        return Ok(HttpTimeout {
            connect: seconds(ctx, c, &format!("{path}[0]"))?,
            read: seconds(ctx, r, &format!("{path}[1]"))?,
        });
    }
    let s = seconds(ctx, node, path)?;
    Ok(HttpTimeout {
        connect: s,
        read: s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(pattern: &str, text: &str) -> bool {
        MatchRegex::new(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .search(text)
            .unwrap()
    }

    /// Results of Python 3.11's `bool(re.compile(p, re.DOTALL).search(t))` for each case
    /// (checked with the testbed's Python: see the table's last column).
    #[test]
    fn python_semantics() {
        let cases: &[(&str, &str, bool)] = &[
            ("ready(?=\\s*$)", "all ready\n", true),
            ("ready(?!ness)", "readiness ready", true),
            ("ready(?!ness)", "readiness", false),
            ("(?<=status: )ok", "status: ok", true),
            ("(?<!not )ok", "not ok", false),
            ("(?P<w>\\w+) (?P=w)", "up up", true),
            ("(\\w+) \\1", "up down", false),
            ("a.b", "a\nb", true),
            ("ok$", "ok\n", true),
            ("ok$", "ok\nmore", false),
            ("(?m)ok$", "ok\nmore", true),
            ("ok\\Z", "ok\n", false),
            ("ok\\Z", "ok", true),
            ("x{,2}y", "xxy", true),
            ("{a}", "{a}", true),
            ("a{1,2", "a{1,2", true),
            ("[[]", "[", true),
            ("[a&&b]", "&", true),
            ("[]x]", "]", true),
            ("^ready", "not ready", false),
            ("\\bup\\b", "it is up.", true),
            ("(?i)READY", "ready", true),
            ("a\\012b", "a\nb", true),
            ("a\\0b", "a\0b", true),
            ("(a)\\1", "aa", true),
            ("(?x) r e a d y  # spaced", "ready", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(finds(p, t), *want, "{p:?} on {t:?}");
        }
    }

    #[test]
    fn bad_patterns_are_errors() {
        for p in ["(unclosed", "a)", "*x", "[z-a]", "(?P<n>a)(?P=m)"] {
            assert!(MatchRegex::new(p).is_err(), "{p}");
        }
    }

    #[test]
    fn secrets_are_not_shown() {
        let auth = BasicAuth {
            username: "u".into(),
            password: Secret::new("hunter2"),
        };
        let opts = HttpOptions {
            auth: Some(auth),
            headers: vec![
                HttpField {
                    name: "X-Api-Token".into(),
                    value: Some(Secret::new("tok3n")),
                },
                HttpField {
                    name: "X-Ready".into(),
                    value: Some(Secret::new("yes")),
                },
            ],
            ..HttpOptions::default()
        };
        let shown = format!("{opts:?} {}", serde_json::to_string(&opts).unwrap());
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok3n"),
            "{shown}"
        );
        assert!(
            shown.contains("yes") && shown.contains("<redacted>"),
            "{shown}"
        );
    }

    /// Loads a file whose one container has `check` as its `running` check.
    fn load(check: &str) -> Result<crate::config::Loaded, String> {
        let text = format!(
            "name: t\nships: {{s1: {{ip: 127.0.0.1}}}}\nservices:\n  web:\n    image: img\n    instances:\n      w1:\n        ship: s1\n        ports: {{http: 8080}}\n        lifecycle:\n          running:\n            - {check}\n"
        );
        let source = crate::config::Source::Text {
            text,
            name: "t.yaml".into(),
            base_dir: std::env::temp_dir(),
        };
        crate::config::load(&source, crate::config::Options { strict: false })
            .map_err(|e| e.to_string())
    }

    fn http_of(check: &str) -> (Option<MatchRegex>, HttpOptions) {
        let loaded = load(check).unwrap_or_else(|e| panic!("{check}: {e}"));
        let inst = loaded.environment.instance("w1").unwrap();
        match &inst.lifecycle.running[0] {
            crate::config::model::Check::Http {
                match_regex,
                requests_options,
                ..
            } => (match_regex.clone(), (**requests_options).clone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_parse() {
        let (re, o) = http_of(
            r#"{type: http, port: http, match_regex: 'up(?=!)', requests_options: {auth: [ops, s3cret], headers: {X-Ready: "1", Accept: null}, cert: [c.pem, k.pem], verify: /ca.pem, timeout: [1, 2.5], allow_redirects: false}}"#,
        );
        assert_eq!(re.unwrap().pattern(), "up(?=!)");
        let auth = o.auth.unwrap();
        assert_eq!(
            (auth.username.as_str(), auth.password.expose()),
            ("ops", "s3cret")
        );
        assert_eq!(o.headers.len(), 2);
        assert_eq!(o.headers[0].value.as_ref().unwrap().expose(), "1");
        assert!(o.headers[1].value.is_none());
        assert_eq!(
            o.cert,
            Some(ClientCert {
                cert: "c.pem".into(),
                key: Some("k.pem".into())
            })
        );
        assert_eq!(o.verify, Verify::Bundle("/ca.pem".into()));
        assert_eq!(
            o.timeout,
            Some(HttpTimeout {
                connect: Some(1.0),
                read: Some(2.5)
            })
        );
        assert!(!o.allow_redirects);

        let (re, o) = http_of(
            "{type: http, port: 8080, scheme: HTTPS, method: Fetch, requests_options: {verify: false, timeout: 3, cert: both.pem}}",
        );
        assert!(re.is_none());
        assert_eq!(o.verify, Verify::Off);
        assert_eq!(o.timeout.unwrap().read, Some(3.0));
        assert_eq!(o.cert.unwrap().key, None);
        assert!(o.allow_redirects);
        let (_, o) = http_of("{type: http, port: 8080}");
        assert_eq!(o, HttpOptions::default());
        let (_, o) = http_of(
            "{type: http, port: 8080, requests_options: {params: {q: a b/é, n: [1, 2.5, null, true], z: null}}}",
        );
        assert_eq!(
            o.params.unwrap().encode(),
            "q=a+b%2F%C3%A9&n=1&n=2.5&n=True"
        );
        let (_, o) = http_of("{type: http, port: 8080, requests_options: {params: 'x=1&y'}}");
        assert_eq!(o.params, Some(HttpParams::Text("x=1&y".into())));
    }

    #[test]
    fn unsupported_requests_keys_warn_and_unknown_ones_fail() {
        let loaded =
            load("{type: http, port: 8080, requests_options: {json: {a: b}, stream: true}}")
                .unwrap();
        let warnings: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("\"json\" is not supported by maestro (ignored)"),
            "{warnings:?}"
        );
        let err = load("{type: http, port: 8080, requests_options: {bogus: 1}}").unwrap_err();
        assert!(
            err.starts_with("t.yaml:12:")
                && err.contains("requests_options.bogus")
                && err.contains("unknown requests option \"bogus\""),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_errors_at_their_position() {
        for (check, words) in [
            (
                "{type: http, port: 8080, match_regex: 'up(?=x'}",
                &["t.yaml:12:53", "match_regex", "bad regex \"up(?=x\""][..],
            ),
            (
                "{type: http, port: 8080, requests_options: {auth: secret}}",
                &["auth", "expected [user, password], found str"],
            ),
            (
                "{type: http, port: 8080, requests_options: {auth: [u, [p]]}}",
                &["auth[1]", "expected a string, found list"],
            ),
            (
                "{type: http, port: 8080, requests_options: {timeout: '5'}}",
                &["timeout", "expected a number of seconds, found str"],
            ),
            (
                "{type: http, port: 8080, requests_options: {timeout: [1, 2, 3]}}",
                &["timeout", "found a list of 3"],
            ),
            (
                "{type: http, port: 8080, requests_options: {timeout: 0}}",
                &["timeout", "greater than 0"],
            ),
            (
                "{type: http, port: 8080, requests_options: {verify: 1}}",
                &[
                    "verify",
                    "expected true, false or a CA bundle path, found int",
                ],
            ),
            (
                "{type: http, port: 8080, requests_options: {headers: {X-N: 1}}}",
                &["headers.X-N", "found int"],
            ),
            (
                "{type: http, port: 8080, requests_options: {headers: {'bad name': x}}}",
                &["invalid header name"],
            ),
            (
                "{type: http, port: 8080, requests_options: [verify]}",
                &["requests_options", "expected a mapping"],
            ),
            (
                "{type: http, port: 8080, scheme: ftp}",
                &["scheme", "invalid scheme \"ftp\" (expected http or https)"],
            ),
            (
                "{type: http, port: 8080, method: 'get it'}",
                &["method", "invalid HTTP method \"get it\""],
            ),
        ] {
            let err = load(check).unwrap_err();
            for w in words {
                assert!(err.contains(w), "{w:?} not in {err}");
            }
        }
        // The password is never part of an error.
        let err = load("{type: http, port: 8080, requests_options: {auth: [u, hunter2, x]}}")
            .unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
