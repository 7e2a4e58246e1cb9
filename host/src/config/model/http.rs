//! The types of an `http` lifecycle check's options: `match_regex` (a Python
//! pattern, compiled) and `requests_options`, as `config/http.rs` reads them
//! and the checks use them.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Serialize, Serializer};

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
