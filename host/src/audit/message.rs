//! What the auditors say, built without any I/O so that every text and payload
//! can be compared with MaestroNG 0.8.3's (`maestro/audit.py`) in unit tests.
//!
//! 0.8.3's texts: `{who} is {verb} {what}.` (`stop` becomes `stopping`, any
//! other action takes `ing`), `{Action} of {what} succeeded.`,
//! `Failed to {action} {what}!` with ` (message: {message})` when there is one.
//! `what` is the container name for a task and `a, b, c` for a play; Slack
//! shortens a play of 5 or more containers to `N containers`. The `http`
//! auditor's `{message}` formats the raw container list the Python way
//! (`[a (on ship1), b (on ship2)]`), and so does `exec`'s `{what}`: kept.

use crate::config::audit::{DEBUG, ERROR, Field, INFO, Payload, Template};
use crate::config::pycompat::json_str;
use crate::config::yaml::pyvalue::float_repr;

/// A container as the auditors see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The container (instance) name.
    pub name: String,
    /// Its service.
    pub service: String,
    /// Its ship's name.
    pub ship: String,
    /// Its ship's `ip` (what `exec` scripts receive).
    pub ship_ip: String,
}

/// What an event is about: a whole play or one container (a task).
#[derive(Debug, Clone, Copy)]
pub enum What<'a> {
    /// Every container of the play, in play order.
    Play(&'a [Subject]),
    /// One container.
    Container(&'a Subject),
}

/// 0.8.3's `COMPACT_SIZE_LIMIT`: lists this long or longer are shortened by Slack.
const COMPACT_SIZE_LIMIT: usize = 5;

impl What<'_> {
    /// `a, b, c` (a play) or the container name (0.8.3's `_format_what`).
    pub fn names(&self) -> String {
        match self {
            What::Container(s) => s.name.clone(),
            What::Play(list) => list
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Whether Slack shows the names themselves (0.8.3's `_fits_compact`).
    pub fn fits_compact(&self) -> bool {
        match self {
            What::Container(_) => true,
            What::Play(list) => list.len() < COMPACT_SIZE_LIMIT,
        }
    }

    /// The names, or `N containers` for a long play (`_format_what_compact`).
    pub fn compact(&self) -> String {
        match self {
            What::Play(list) if !self.fits_compact() => {
                format!(
                    "{} container{}",
                    list.len(),
                    if list.len() > 1 { "s" } else { "" }
                )
            }
            _ => self.names(),
        }
    }

    /// Python's `str()` of what 0.8.3 passes around: a container prints as
    /// `name (on ship)`, a list as `[a (on ship1), b (on ship2)]`.
    pub fn python_str(&self) -> String {
        let one = |s: &Subject| format!("{} (on {})", s.name, s.ship);
        match self {
            What::Container(s) => one(s),
            What::Play(list) => {
                format!("[{}]", list.iter().map(one).collect::<Vec<_>>().join(", "))
            }
        }
    }
}

/// `starting`, `stopping`, `pulling`... (`_format_action_verb`).
pub fn verb(action: &str) -> String {
    if action == "stop" {
        "stopping".into()
    } else {
        format!("{action}ing")
    }
}

/// `{who} is {verb} {what}.`
pub fn action_text(what: &str, action: &str, who: &str) -> String {
    format!("{who} is {} {what}.", verb(action))
}

/// `{Action} of {what} succeeded.`, the action in Python's `str.title()`.
pub fn success_text(what: &str, action: &str) -> String {
    format!("{} of {what} succeeded.", title(action))
}

/// `Failed to {action} {what}!` and ` (message: ...)` when there is a message.
pub fn error_text(what: &str, action: &str, message: Option<&str>) -> String {
    let mut s = format!("Failed to {action} {what}!");
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        s.push_str(&format!(" (message: {m})"));
    }
    s
}

/// Python's `str.title()` for the ASCII words actions are.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut after_letter = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if after_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            after_letter = true;
        } else {
            out.push(c);
            after_letter = false;
        }
    }
    out
}

/// Python's `logging.getLevelName`.
pub fn level_name(level: u32) -> String {
    match level {
        DEBUG => "DEBUG".into(),
        INFO => "INFO".into(),
        30 => "WARNING".into(),
        ERROR => "ERROR".into(),
        50 => "CRITICAL".into(),
        0 => "NOTSET".into(),
        n => format!("Level {n}"),
    }
}

/// A local time broken down, for the log auditor's timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Year (e.g. 2026).
    pub year: i32,
    /// Month 1-12.
    pub month: u32,
    /// Day 1-31.
    pub day: u32,
    /// Hour 0-23.
    pub hour: u32,
    /// Minute.
    pub minute: u32,
    /// Second.
    pub second: u32,
    /// Milliseconds.
    pub millis: u32,
}

/// One line of the `log` auditor: Python logging's
/// `%(asctime)s %(levelname)s: %(message)s` (`2026-12-06 17:44:14,123 INFO: ...`).
pub fn log_line(t: LocalTime, level: u32, text: &str) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03} {}: {}\n",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.millis,
        level_name(level),
        text
    )
}

/// A JSON value as Python's `json` module holds it (dict order kept).
#[derive(Debug, Clone, PartialEq)]
pub enum PyJson {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer, as decimal text.
    Int(String),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<PyJson>),
    /// An object, in insertion order.
    Dict(Vec<(String, PyJson)>),
}

impl PyJson {
    /// Python's `json.dumps(value)` with its defaults: `", "` and `": "`
    /// separators, non-ASCII escaped as `\uXXXX`.
    pub fn dumps(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            PyJson::Null => out.push_str("null"),
            PyJson::Bool(true) => out.push_str("true"),
            PyJson::Bool(false) => out.push_str("false"),
            PyJson::Int(d) => out.push_str(d),
            PyJson::Float(f) if f.is_nan() => out.push_str("NaN"),
            PyJson::Float(f) if f.is_infinite() => {
                out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
            }
            PyJson::Float(f) => out.push_str(&float_repr(*f)),
            PyJson::Str(s) => json_str(s, out),
            PyJson::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            PyJson::Dict(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    json_str(k, out);
                    out.push_str(": ");
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Empty for 0.8.3's payload filter: `""`, `[]`, `{}`.
    fn is_empty(&self) -> bool {
        match self {
            PyJson::Str(s) => s.is_empty(),
            PyJson::List(l) => l.is_empty(),
            PyJson::Dict(d) => d.is_empty(),
            _ => false,
        }
    }
}

/// The values an `http` payload template is filled with.
#[derive(Debug, Clone)]
pub struct Fill<'a> {
    /// `{what}`: `a, b`.
    pub what: &'a str,
    /// `{action}`.
    pub action: &'a str,
    /// `{who}`.
    pub who: &'a str,
    /// `{message}`.
    pub message: &'a str,
}

impl Fill<'_> {
    fn get(&self, f: Field) -> String {
        match f {
            Field::What => self.what,
            Field::Action => self.action,
            Field::Who => self.who,
            Field::Message => self.message,
        }
        .to_owned()
    }
}

/// The `http` auditor's body: the payload with its strings filled, entries and
/// items that came out empty left out, and `null` when nothing is left (0.8.3's
/// `_prepare_payload`, then `json.dumps`).
pub fn http_body(payload: &Payload, fill: &Fill<'_>) -> String {
    let rendered = render(payload, fill);
    if rendered.is_empty() {
        PyJson::Null.dumps()
    } else {
        rendered.dumps()
    }
}

fn render(p: &Payload, fill: &Fill<'_>) -> PyJson {
    match p {
        Payload::Null => PyJson::Null,
        Payload::Bool(b) => PyJson::Bool(*b),
        Payload::Int(d) => PyJson::Int(d.clone()),
        Payload::Float(f) => PyJson::Float(*f),
        Payload::Text(t) => PyJson::Str(t.fill(|f| fill.get(f))),
        Payload::List(items) => PyJson::List(
            items
                .iter()
                .map(|i| render(i, fill))
                .filter(|v| !v.is_empty())
                .collect(),
        ),
        Payload::Map(entries) => PyJson::Dict(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), render(v, fill)))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        ),
    }
}

/// The `exec` auditor's arguments: `args` filled (`{what}` is the Python list
/// text, as in 0.8.3) and split on whitespace.
pub fn exec_args(args: &Template, action: &str, what: &What<'_>, who: &str) -> Vec<String> {
    args.fill(|f| match f {
        Field::Action => action.to_owned(),
        Field::What => what.python_str(),
        Field::Who | Field::Message => who.to_owned(),
    })
    .split_whitespace()
    .map(str::to_owned)
    .collect()
}

/// What the `exec` script reads on its standard input:
/// `{"name": {"ship": "<ship ip>", "service": "<service>"}, ...}`.
pub fn exec_stdin(subjects: &[Subject]) -> String {
    let mut entries: Vec<(String, PyJson)> = Vec::new();
    for s in subjects {
        let value = PyJson::Dict(vec![
            ("ship".into(), PyJson::Str(s.ship_ip.clone())),
            ("service".into(), PyJson::Str(s.service.clone())),
        ]);
        match entries.iter_mut().find(|(k, _)| *k == s.name) {
            Some(e) => e.1 = value,
            None => entries.push((s.name.clone(), value)),
        }
    }
    PyJson::Dict(entries).dumps()
}

/// Slack's attachment colour for an action, a success, an error.
pub const SLACK_ACTION_COLOUR: &str = "#1dc7d3";
/// For a success.
pub const SLACK_SUCCESS_COLOUR: &str = "good";
/// For an error.
pub const SLACK_ERROR_COLOUR: &str = "danger";

/// The form body of Slack's `chat.postMessage` as 0.8.3 (through slacker)
/// sends it: `channel`, `username`, `attachments` (one, as JSON), `icon_url`
/// when set, `mrkdwn=True`. `error` adds the `Error` field; a long play adds
/// `Targets` with every name.
pub fn slack_form(
    channel: &str,
    username: &str,
    icon: Option<&str>,
    text: &str,
    colour: &str,
    what: &What<'_>,
    error: Option<Option<&str>>,
) -> String {
    let mut fields = Vec::new();
    if let Some(message) = error {
        fields.push(PyJson::Dict(vec![
            ("title".into(), PyJson::Str("Error".into())),
            (
                "value".into(),
                message.map_or(PyJson::Null, |m| PyJson::Str(m.to_owned())),
            ),
            ("short".into(), PyJson::Bool(true)),
        ]));
    }
    if !what.fits_compact() {
        fields.push(PyJson::Dict(vec![
            ("title".into(), PyJson::Str("Targets".into())),
            ("value".into(), PyJson::Str(what.names())),
        ]));
    }
    let attachment = PyJson::Dict(vec![
        ("fallback".into(), PyJson::Str(text.to_owned())),
        ("text".into(), PyJson::Str(text.to_owned())),
        ("color".into(), PyJson::Str(colour.to_owned())),
        ("fields".into(), PyJson::List(fields)),
    ]);
    let attachments = PyJson::List(vec![attachment]).dumps();
    let mut pairs = vec![
        ("channel", channel),
        ("username", username),
        ("attachments", &attachments),
    ];
    if let Some(icon) = icon {
        pairs.push(("icon_url", icon));
    }
    pairs.push(("mrkdwn", "True"));
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Python's `urllib.parse.quote_plus` (UTF-8, `-._~` and alphanumerics kept).
pub fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Standard base64 with padding (HTTP Basic authentication).
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
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

    fn subject(name: &str, ship: &str) -> Subject {
        Subject {
            name: name.into(),
            service: "svc".into(),
            ship: ship.into(),
            ship_ip: format!("10.0.0.{}", ship.len()),
        }
    }

    // The expected strings below are what MaestroNG 0.8.3's auditor classes
    // produce for the same calls (checked against its venv; the e2e tests in
    // tests/tests/audit.rs compare the two on the wire).

    #[test]
    fn texts_are_maestrong_s() {
        assert_eq!(
            action_text("a, b", "start", "alice"),
            "alice is starting a, b."
        );
        assert_eq!(action_text("a", "stop", "alice"), "alice is stopping a.");
        assert_eq!(action_text("a", "restart", "bob"), "bob is restarting a.");
        assert_eq!(success_text("a, b", "start"), "Start of a, b succeeded.");
        assert_eq!(success_text("a", "clean"), "Clean of a succeeded.");
        assert_eq!(error_text("a", "kill", None), "Failed to kill a!");
        assert_eq!(error_text("a", "kill", Some("")), "Failed to kill a!");
        assert_eq!(
            error_text("a", "start", Some("boom")),
            "Failed to start a! (message: boom)"
        );
    }

    #[test]
    fn what_reads_as_in_python() {
        let list = vec![subject("a", "s1"), subject("b", "s22")];
        let play = What::Play(&list);
        assert_eq!(play.names(), "a, b");
        assert_eq!(play.python_str(), "[a (on s1), b (on s22)]");
        assert_eq!(What::Container(&list[0]).python_str(), "a (on s1)");
        assert_eq!(What::Play(&[]).python_str(), "[]");
        let five: Vec<Subject> = (0..5).map(|i| subject(&format!("c{i}"), "s")).collect();
        assert_eq!(What::Play(&five).compact(), "5 containers");
        assert_eq!(What::Play(&five[..4]).compact(), "c0, c1, c2, c3");
    }

    #[test]
    fn json_is_python_s() {
        let v = PyJson::Dict(vec![
            ("a".into(), PyJson::Str("é \"q\" \\ \n\u{1}\u{7f}😀".into())),
            (
                "b".into(),
                PyJson::List(vec![
                    PyJson::Int("1".into()),
                    PyJson::Float(1e16),
                    PyJson::Null,
                ]),
            ),
        ]);
        assert_eq!(
            v.dumps(),
            r#"{"a": "\u00e9 \"q\" \\ \n\u0001\u007f\ud83d\ude00", "b": [1, 1e+16, null]}"#
        );
    }

    #[test]
    fn payloads_drop_what_comes_out_empty() {
        let t = |s: &str| {
            Payload::Text(
                Template::parse(s, &[Field::What, Field::Action, Field::Who, Field::Message])
                    .unwrap(),
            )
        };
        let payload = Payload::Map(vec![
            ("text".into(), t("{message}")),
            ("empty".into(), t("")),
            (
                "list".into(),
                Payload::List(vec![t("{what}"), t(""), Payload::Map(vec![])]),
            ),
            ("n".into(), Payload::Int("3".into())),
        ]);
        let fill = Fill {
            what: "a, b",
            action: "start",
            who: "alice",
            message: "alice is starting [a (on s1), b (on s2)].",
        };
        assert_eq!(
            http_body(&payload, &fill),
            r#"{"text": "alice is starting [a (on s1), b (on s2)].", "list": ["a, b"], "n": 3}"#
        );
        assert_eq!(http_body(&Payload::Map(vec![]), &fill), "null");
        assert_eq!(
            http_body(&Payload::Map(vec![("x".into(), t(""))]), &fill),
            "null"
        );
    }

    #[test]
    fn exec_gets_split_args_and_a_json_map() {
        let list = vec![subject("a", "s1"), subject("b", "s22")];
        let args = Template::parse(
            "--action {action} --what {what} --who {who}",
            &[Field::Action, Field::What, Field::Who],
        )
        .unwrap();
        assert_eq!(
            exec_args(&args, "start", &What::Play(&list), "alice"),
            [
                "--action", "start", "--what", "[a", "(on", "s1),", "b", "(on", "s22)]", "--who",
                "alice"
            ]
        );
        assert_eq!(
            exec_stdin(&list),
            r#"{"a": {"ship": "10.0.0.2", "service": "svc"}, "b": {"ship": "10.0.0.3", "service": "svc"}}"#
        );
    }

    /// slacker's encoding of 0.8.3's form, but for `fields` of an error: 0.8.3
    /// sends the one field as a dict, here it is a one-item list.
    #[test]
    fn slack_form_is_slacker_s() {
        let list = vec![subject("a", "s1")];
        let body = slack_form(
            "#ops",
            "maestro-ng",
            None,
            "Failed to start a!",
            SLACK_ERROR_COLOUR,
            &What::Play(&list),
            Some(Some("x y")),
        );
        assert_eq!(
            body,
            "channel=%23ops&username=maestro-ng&attachments=%5B%7B%22fallback%22%3A+%22Failed+to+start+a%21%22%2C+%22text%22%3A+%22Failed+to+start+a%21%22%2C+%22color%22%3A+%22danger%22%2C+%22fields%22%3A+%5B%7B%22title%22%3A+%22Error%22%2C+%22value%22%3A+%22x+y%22%2C+%22short%22%3A+true%7D%5D%7D%5D&mrkdwn=True"
        );
    }

    #[test]
    fn base64_is_standard() {
        assert_eq!(base64(b"bot:p@ss"), "Ym90OnBAc3M=");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b""), "");
    }

    #[test]
    fn log_lines_are_python_logging_s() {
        let t = LocalTime {
            year: 2026,
            month: 1,
            day: 2,
            hour: 3,
            minute: 4,
            second: 5,
            millis: 6,
        };
        assert_eq!(log_line(t, INFO, "x"), "2026-01-02 03:04:05,006 INFO: x\n");
        assert_eq!(
            log_line(t, 15, "x"),
            "2026-01-02 03:04:05,006 Level 15: x\n"
        );
    }
}
