//! The types of the `audit:` section's auditors, as `config/audit.rs` reads
//! them and `crate::audit` runs them.

use std::path::PathBuf;

use serde::{Serialize, Serializer};

/// Why an auditor's message template is unusable (an unknown `{field}`, a
/// format spec): the reason, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

impl From<String> for TemplateError {
    fn from(message: String) -> Self {
        TemplateError(message)
    }
}

/// Python's `logging.DEBUG`: the level of container-level (task) events.
pub const DEBUG: u32 = 10;
/// Python's `logging.INFO`: the level of play-level events, and the default.
pub const INFO: u32 = 20;
/// Python's `logging.ERROR`: the level the `log` auditor writes errors at.
pub const ERROR: u32 = 40;

/// The default `timeout` of an `http` auditor, in seconds (0.8.3's).
pub const HTTP_TIMEOUT_SECS: f64 = 3.0;

/// What `dump` shows instead of a secret.
const REDACTED: &str = "<redacted>";

/// One configured auditor.
#[derive(Debug, Clone, Serialize)]
pub struct Auditor {
    /// Its position in the `audit` list, from 1, to name it in messages.
    pub number: usize,
    /// The lowest event level it reports (`info` = 20, `debug` = 10).
    pub level: u32,
    /// `ignore_errors: true`: a failure of this auditor never affects the play.
    pub ignore_errors: bool,
    /// The type and its settings.
    #[serde(flatten)]
    pub kind: AuditorKind,
}

impl Auditor {
    /// `auditor #N (TYPE)`, how messages name it.
    pub fn label(&self) -> String {
        format!("auditor #{} ({})", self.number, self.kind.type_name())
    }
}

/// An auditor's type and settings.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum AuditorKind {
    /// `log`: lines appended to a file.
    #[serde(rename = "log")]
    Log {
        /// `file`, as given (relative to the working directory, as in 0.8.3).
        file: PathBuf,
    },
    /// `http`: a JSON request to a webhook before each play.
    #[serde(rename = "http")]
    Http {
        /// `endpoint`: an `http://` or `https://` URL.
        endpoint: Endpoint,
        /// `user:password` given in the endpoint URL, sent as Basic
        /// authentication (as requests does) and kept out of the URL.
        credentials: Option<Secret>,
        /// `method`: GET or POST (the default).
        method: HttpMethod,
        /// `headers`, added to (or replacing) `Content-Type`.
        headers: Vec<Header>,
        /// `payload`: the JSON template.
        #[serde(serialize_with = "redact_payload")]
        payload: Payload,
        /// `timeout` in seconds (default 3).
        timeout_secs: f64,
    },
    /// `exec`: a local script run after each successful play.
    #[serde(rename = "exec")]
    Exec {
        /// `script`: the program (looked up in `PATH` when it has no slash).
        script: String,
        /// `args`: the argument template, split on whitespace once filled.
        args: Template,
    },
    /// `slack`: a message posted with Slack's Web API (`chat.postMessage`).
    #[serde(rename = "slack")]
    Slack {
        /// `name`: the user name shown (default `maestro-ng`).
        name: String,
        /// `channel`.
        channel: String,
        /// `token`: the bot token.
        token: Secret,
        /// `icon`: an image URL for the message.
        icon: Option<String>,
    },
    /// `hipchat`: accepted, but HipChat no longer exists; see [`crate::audit`].
    #[serde(rename = "hipchat")]
    Hipchat {
        /// `name`.
        name: String,
        /// `room`.
        room: String,
        /// `token`.
        token: Secret,
    },
    /// `_fail`: 0.8.3's testing auditor, which fails at every event.
    #[serde(rename = "_fail")]
    Fail,
}

impl AuditorKind {
    /// The `type` value.
    pub fn type_name(&self) -> &'static str {
        match self {
            AuditorKind::Log { .. } => "log",
            AuditorKind::Http { .. } => "http",
            AuditorKind::Exec { .. } => "exec",
            AuditorKind::Slack { .. } => "slack",
            AuditorKind::Hipchat { .. } => "hipchat",
            AuditorKind::Fail => "_fail",
        }
    }
}

/// A value never shown: `Debug` and `dump` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(REDACTED)
    }
}

/// A webhook URL. Webhook URLs often carry their secret in the path or query
/// (Slack, Teams, Discord), so only the scheme and host are ever shown.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint(pub String);

impl Endpoint {
    /// `scheme://host:port/<redacted>`: what messages and `dump` show.
    pub fn shown(&self) -> String {
        match self.0.parse::<hyper::Uri>() {
            Ok(uri) => {
                let scheme = uri.scheme_str().unwrap_or("http");
                let host = uri.host().unwrap_or("");
                let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
                let rest = uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
                let tail = if rest.is_empty() || rest == "/" {
                    String::new()
                } else {
                    format!("/{REDACTED}")
                };
                format!("{scheme}://{host}{port}{tail}")
            }
            Err(_) => REDACTED.into(),
        }
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl Serialize for Endpoint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.shown())
    }
}

/// An `http` auditor's method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HttpMethod {
    /// GET (with the JSON body all the same, as 0.8.3 sends it).
    #[serde(rename = "GET")]
    Get,
    /// POST.
    #[serde(rename = "POST")]
    Post,
}

impl HttpMethod {
    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// One configured HTTP header; the value may be a credential, so `dump` hides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    /// The header name.
    pub name: String,
    /// Its value.
    pub value: Secret,
}

/// A placeholder of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `{what}`: the containers, `a, b`.
    What,
    /// `{action}`: the play or task (`start`, `stop`...).
    Action,
    /// `{who}`: the user running maestro.
    Who,
    /// `{message}`: the notification text (`http` only).
    Message,
}

impl Field {
    /// The placeholder's name, as written between the braces.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::What => "what",
            Field::Action => "action",
            Field::Who => "who",
            Field::Message => "message",
        }
    }
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text as is (`{{` and `}}` already read as braces).
    Text(String),
    /// A placeholder.
    Field(Field),
}

/// A string with `{what}`-style placeholders: the subset of Python's
/// `str.format` 0.8.3's auditors can fill (named fields, `{{`, `}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The text as written.
    pub source: String,
    /// Parsed.
    pub pieces: Vec<Piece>,
}

impl Serialize for Template {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl Template {
    /// Parses `text`, allowing the placeholders in `fields`.
    pub fn parse(text: &str, fields: &[Field]) -> Result<Template, TemplateError> {
        Self::parse_text(text, fields).map_err(TemplateError)
    }

    fn parse_text(text: &str, fields: &[Field]) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '}' => return Err("single '}' in the text (write '}}' for a brace)".into()),
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err("'{' without its '}' (write '{{' for a brace)".into());
                    }
                    let known: Vec<String> =
                        fields.iter().map(|f| format!("{{{}}}", f.name())).collect();
                    let Some(field) = fields.iter().find(|f| f.name() == name) else {
                        if name.contains([':', '!', '.', '[']) {
                            return Err(format!(
                                "placeholder {{{name}}}: format specifications are not supported; use {}",
                                known.join(", ")
                            ));
                        }
                        return Err(format!(
                            "unknown placeholder {{{name}}}; use {}",
                            known.join(", ")
                        ));
                    };
                    if !lit.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut lit)));
                    }
                    pieces.push(Piece::Field(*field));
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Text(lit));
        }
        Ok(Template {
            source: text.to_owned(),
            pieces,
        })
    }

    /// The text with each placeholder replaced by `value(field)`.
    pub fn fill(&self, value: impl Fn(Field) -> String) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(f) => out.push_str(&value(*f)),
            }
        }
        out
    }
}

/// An `http` auditor's `payload`: JSON whose strings are templates.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// `null` (also an absent payload).
    Null,
    /// A boolean, sent as is.
    Bool(bool),
    /// An integer, as decimal text (Python ints are unbounded).
    Int(String),
    /// A float.
    Float(f64),
    /// A string template.
    Text(Template),
    /// A list.
    List(Vec<Payload>),
    /// A mapping, keys in YAML order.
    Map(Vec<(String, Payload)>),
}

fn redact_payload<S: Serializer>(p: &Payload, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Payload::Null => s.serialize_none(),
        _ => s.serialize_str(REDACTED),
    }
}
