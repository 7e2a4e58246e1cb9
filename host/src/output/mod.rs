//! Everything maestro shows the user, and the only module that writes to
//! the terminal. Renderers return strings (easy to test); [`emit`] and
//! [`report`] write them, with colour only on a terminal and never with
//! `NO_COLOR`.

mod import;
pub mod live;
pub mod logs;
pub mod man;
pub mod status;
pub mod summary;
pub mod swept;

use std::io::{IsTerminal, Write};
use std::time::Duration;

mod ships;

pub use import::{import_json, import_text};
pub use ships::{ships_json, ships_text};

use crate::config::model::{EnvVar, Environment};
use crate::plan::{Plan, deptree};

/// Whether to colour what goes to `stream`, by the terminal conventions
/// (anstream reads them): `NO_COLOR` set and not empty: never;
/// `CLICOLOR_FORCE`: always, into a pipe too; `CLICOLOR=0`: never; else only
/// on a terminal whose `TERM` is set and not `dumb`. (anstream would colour a
/// dumb terminal when `CI` is set; a dumb terminal shows no colour anywhere.)
fn colour_for<S: anstream::stream::RawStream>(stream: &S) -> bool {
    let forced = std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0");
    match anstream::AutoStream::choice(stream) {
        anstream::ColorChoice::Never => false,
        _ => forced || !dumb_terminal(),
    }
}

/// Whether standard output is a terminal that can redraw in place (not
/// `TERM=dumb`).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal() && !dumb_terminal()
}

/// Whether standard error is a terminal that can redraw in place.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal() && !dumb_terminal()
}

/// `TERM=dumb`: a terminal that moves no cursor and shows no colour.
fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// Colour on standard output ([`colour_for`]).
pub fn stdout_colour() -> bool {
    colour_for(&std::io::stdout())
}

/// Colour on standard error ([`colour_for`]).
pub fn stderr_colour() -> bool {
    colour_for(&std::io::stderr())
}

/// The width of `text` on a terminal: East Asian wide characters take two
/// columns, combining marks none.
pub fn display_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// The longest start of `text` that takes at most `columns` columns.
pub fn cut_to_width(text: &str, columns: usize) -> &str {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > columns {
            return &text[..at];
        }
        used += w;
    }
    text
}

/// `COLUMNS`, when set (as MaestroNG reads it): a fixed width.
pub fn columns_env() -> Option<usize> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

/// The terminal's width: `COLUMNS` when set, else what the terminal on
/// standard output (or error) says now, else 120.
pub fn terminal_width() -> usize {
    if let Some(c) = columns_env() {
        return c;
    }
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
        // SAFETY: TIOCGWINSZ writes one `winsize` through the pointer, which
        // points to a live, properly aligned local; on failure nothing is written.
        let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0;
        if ok && ws.ws_col > 0 {
            return usize::from(ws.ws_col);
        }
    }
    120
}

/// The colours maestro uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    /// Success.
    Green,
    /// Failure.
    Red,
    /// Skipped, warnings.
    Yellow,
    /// Work in progress.
    Cyan,
    /// Waiting.
    Dim,
    /// A 256-colour palette index (log prefixes).
    Indexed(u8),
}

/// `text` in `colour` when `enabled` (and not empty), else as is.
pub fn paint(text: &str, colour: Paint, enabled: bool) -> String {
    if !enabled || text.is_empty() {
        return text.to_owned();
    }
    let code = match colour {
        Paint::Green => "32".to_owned(),
        Paint::Red => "31".to_owned(),
        Paint::Yellow => "33".to_owned(),
        Paint::Cyan => "36".to_owned(),
        Paint::Dim => "2".to_owned(),
        Paint::Indexed(n) => format!("38;5;{n}"),
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// A duration for progress lines: `0.4s`, `12.0s`, `1m01.5s`, `2h03m`.
pub fn short_duration(d: Duration) -> String {
    let tenths = d.as_millis() / 100;
    let secs = tenths / 10;
    if secs < 60 {
        format!("{}.{}s", secs, tenths % 10)
    } else if secs < 3600 {
        format!("{}m{:02}.{}s", secs / 60, secs % 60, tenths % 10)
    } else {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

pub use crate::observe::time::uptime;

/// Writes `text` to standard output. A closed pipe (`maestro env x | head`)
/// is not an error.
pub fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes `text` to standard output at once; `false` when the reader has
/// gone (a closed pipe: `maestro logs -F web | head`), so a command that
/// would print forever can stop.
pub fn emit_live(text: &str) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_ok()
}

/// Writes a remark (not a warning) to standard error, as it is.
pub fn note(text: &str) {
    let _ = std::io::stderr()
        .lock()
        .write_all(format!("{text}\n").as_bytes());
}

/// Severity of a message on standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `warning:` (yellow).
    Warning,
    /// `error:` (red).
    Error,
}

/// Formats a message for standard error.
pub fn format_message(level: Level, message: &str, colour: bool) -> String {
    let (label, code) = match level {
        Level::Warning => ("warning", "33"),
        Level::Error => ("error", "31"),
    };
    if colour {
        format!("\x1b[1;{code}m{label}\x1b[0m: {message}\n")
    } else {
        format!("{label}: {message}\n")
    }
}

/// Writes a warning or error to standard error.
pub fn report(level: Level, message: &str) {
    let text = format_message(level, message, stderr_colour());
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `KEY=VALUE` lines (a bare `KEY` for a variable without value).
pub fn env_text(vars: &[EnvVar]) -> String {
    vars.iter().map(|v| v.to_docker() + "\n").collect()
}

/// The environment as a JSON object (`null` for a variable without value).
pub fn env_json(vars: &[EnvVar]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = vars
        .iter()
        .map(|v| {
            (
                v.name.clone(),
                v.value
                    .clone()
                    .map_or(serde_json::Value::Null, serde_json::Value::String),
            )
        })
        .collect();
    json(&serde_json::Value::Object(map))
}

pub(crate) fn json<T: serde::Serialize>(value: &T) -> String {
    // Serialising our own plain data cannot fail; fall back to null anyway.
    serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into()) + "\n"
}

/// The plan as a table in MaestroNG's list order; waves are numbered from 1.
pub fn plan_text(plan: &Plan) -> String {
    let ships: std::collections::BTreeSet<&str> =
        plan.steps.iter().map(|s| s.ship.as_str()).collect();
    let mut out = format!(
        "{}: {} container{} on {} ship{}, {} wave{}, concurrency {}{}\n",
        plan.action.as_str(),
        plan.steps.len(),
        plural(plan.steps.len()),
        ships.len(),
        plural(ships.len()),
        plan.waves(),
        plural(plan.waves()),
        plan.concurrency
            .map_or("unlimited".to_owned(), |c| c.to_string()),
        if plan.ignore_dependencies {
            ", dependencies ignored"
        } else {
            ""
        },
    );
    if plan.steps.is_empty() {
        return out;
    }
    let rows: Vec<[String; 6]> = plan
        .steps
        .iter()
        .map(|s| {
            [
                format!("{}.", s.number),
                (s.wave + 1).to_string(),
                s.container.clone(),
                s.service.clone(),
                s.ship.clone(),
                if s.waits_for.is_empty() {
                    "-".into()
                } else {
                    s.waits_for.join(",")
                },
            ]
        })
        .collect();
    let header = ["#", "WAVE", "CONTAINER", "SERVICE", "SHIP", "AFTER"].map(String::from);
    let mut widths = [0usize; 6];
    for row in std::iter::once(&header).chain(rows.iter()) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(display_width(cell));
        }
    }
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - display_width(cell);
            if i < 2 {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else if i == 5 {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
            if i < 5 {
                line.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(&batches_text(plan));
    out
}

/// `upgrade`/`rollback` plans: each service's batches, in order.
fn batches_text(plan: &Plan) -> String {
    let mut services: Vec<(&str, Vec<Vec<&str>>)> = Vec::new();
    for s in &plan.steps {
        let Some(b) = s.batch else { continue };
        let at = match services.iter().position(|(name, _)| *name == s.service) {
            Some(at) => at,
            None => {
                services.push((&s.service, Vec::new()));
                services.len() - 1
            }
        };
        let batches = &mut services[at].1;
        if batches.len() <= b {
            batches.resize(b + 1, Vec::new());
        }
        batches[b].push(&s.container);
    }
    let mut out = String::new();
    if !services.is_empty() {
        out.push_str("\nbatches (each waits for the one before it to pass its checks):\n");
    }
    for (service, batches) in services {
        let list: Vec<String> = batches
            .iter()
            .map(|b| format!("[{}]", b.join(" ")))
            .collect();
        out.push_str(&format!("  {service}: {}\n", list.join(" then ")));
    }
    out
}

/// `plan upgrade|rollback --observe` as text: the plan, then what each container
/// is and what would be done to it.
pub fn plan_swaps_text(
    plan: &Plan,
    observed: &[Result<crate::observe::snapshot::SwapSeen, String>],
) -> String {
    use crate::plan::swap::Leftover;
    let header = [
        "CONTAINER",
        "NOW",
        "DECISION (images as on the ships now, before pulling)",
    ];
    plan_steps_text(plan, observed, &header, |o| {
        let first = match o.leftover {
            Leftover::None | Leftover::DropPrevious => "",
            Leftover::Restore => "rename .previous back, then ",
            Leftover::DiscardNew => "remove the stopped replacement, rename .previous back, then ",
            Leftover::Verify => "gate the replacement an interrupted run left, then ",
        };
        let then = match &o.replace {
            Some(r) => r.text(),
            None => "pull, then replace (the image is not on the ship yet)".into(),
        };
        let aside = if o.leftover == Leftover::None {
            ""
        } else {
            " + .previous"
        };
        [
            format!("{}{aside}", seen_word(&o.seen)),
            format!("{first}{then}"),
        ]
    })
}

/// The plan, then (when it has steps) a table of each step's container and the two
/// columns `row` makes of its observation, or `unknown` and the error.
fn plan_steps_text<T>(
    plan: &Plan,
    observed: &[Result<T, String>],
    header: &[&str; 3],
    row: impl Fn(&T) -> [String; 2],
) -> String {
    let mut out = plan_text(plan);
    if plan.steps.is_empty() {
        return out;
    }
    out.push('\n');
    let rows: Vec<[String; 3]> = plan
        .steps
        .iter()
        .zip(observed)
        .map(|(step, o)| match o {
            Ok(o) => {
                let [now, decision] = row(o);
                [step.container.clone(), now, decision]
            }
            Err(e) => [step.container.clone(), "unknown".into(), format!("? ({e})")],
        })
        .collect();
    push_observed_table(&mut out, header, &rows);
    out
}

/// The NOW column's word for a container's state.
fn seen_word(seen: &crate::plan::decide::Seen) -> &'static str {
    use crate::plan::decide::Seen;
    match seen {
        Seen::Absent => "absent",
        Seen::Stopped { .. } => "stopped",
        Seen::Running { .. } => "running",
    }
}

/// `plan upgrade|rollback --observe` as JSON: each step with `observed` and
/// `decision` (`null`: the image is not on the ship yet), or `error`.
pub fn plan_swaps_json(
    plan: &Plan,
    observed: &[Result<crate::observe::snapshot::SwapSeen, String>],
) -> String {
    plan_steps_json(plan, observed, |step, o| {
        step.insert(
            "observed".into(),
            serde_json::json!({"container": o.seen, "leftover": o.leftover}),
        );
        let d = match &o.replace {
            Some(r) => with_text(r, r.text()),
            None => serde_json::Value::Null,
        };
        step.insert("decision".into(), d);
    })
}

/// The plan as JSON with each step given `add`'s keys from its observation, or
/// `error` where its ship could not say.
fn plan_steps_json<T>(
    plan: &Plan,
    observed: &[Result<T, String>],
    add: impl Fn(&mut serde_json::Map<String, serde_json::Value>, &T),
) -> String {
    let mut value = serde_json::to_value(plan).unwrap_or(serde_json::Value::Null);
    if let Some(steps) = value.get_mut("steps").and_then(|s| s.as_array_mut()) {
        for (step, o) in steps.iter_mut().zip(observed) {
            let Some(step) = step.as_object_mut() else {
                continue;
            };
            match o {
                Ok(o) => add(step, o),
                Err(e) => {
                    step.insert("error".into(), e.clone().into());
                }
            }
        }
    }
    json(&value)
}

/// A decision as JSON with its one-line `text` added.
fn with_text(decision: &impl serde::Serialize, text: String) -> serde_json::Value {
    let mut d = serde_json::to_value(decision).unwrap_or_default();
    if let Some(d) = d.as_object_mut() {
        d.insert("text".into(), text.into());
    }
    d
}

/// Appends the `plan --observe` table (`header` then `rows`, the first two columns
/// padded to their widest cell) to `out`.
fn push_observed_table(out: &mut String, header: &[&str; 3], rows: &[[String; 3]]) {
    let header = header.map(String::from);
    let width = |i: usize| {
        std::iter::once(&header)
            .chain(rows)
            .map(|r| display_width(&r[i]))
            .max()
            .unwrap_or(0)
    };
    let (w0, w1) = (width(0), width(1));
    for row in std::iter::once(&header).chain(rows) {
        out.push_str(&format!("{:w0$}  {:w1$}  {}\n", row[0], row[1], row[2]));
    }
}

/// One step's observation and decision for `plan --observe`, or why its ship
/// could not say.
pub type Decided = Result<
    (
        crate::plan::decide::Seen,
        crate::plan::decide::ImageSeen,
        crate::plan::decide::Decision,
    ),
    String,
>;

/// The plan with, for each step, what its container is now and what the command
/// would do to it.
pub fn plan_observed_text(plan: &Plan, decisions: &[Decided]) -> String {
    let header = ["CONTAINER", "NOW", "DECISION"];
    plan_steps_text(plan, decisions, &header, |(seen, _, decision)| {
        [seen_word(seen).into(), decision.text()]
    })
}

/// `plan --observe` as JSON: the plan, each step with `observed` (the container's
/// state and image) and `decision`, or `error` when its ship could not say.
pub fn plan_observed_json(plan: &Plan, decisions: &[Decided]) -> String {
    plan_steps_json(plan, decisions, |step, (seen, image, decision)| {
        step.insert(
            "observed".into(),
            serde_json::json!({"container": seen, "image": image}),
        );
        step.insert("decision".into(), with_text(decision, decision.text()));
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The plan as JSON (waves from 0).
pub fn plan_json(plan: &Plan) -> String {
    json(plan)
}

fn dot_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The dependency graph for Graphviz (`dot -Tsvg`); an edge points from a
/// service to one it requires.
pub fn deptree_dot(env: &Environment, roots: &[String]) -> String {
    let (nodes, edges) = deptree::graph(env, roots);
    let mut out = String::from("digraph maestro {\n");
    for n in &nodes {
        out.push_str(&format!("  {};\n", dot_quote(n)));
    }
    for (a, b) in &edges {
        out.push_str(&format!("  {} -> {};\n", dot_quote(a), dot_quote(b)));
    }
    out.push_str("}\n");
    out
}

/// The dependency graph as a Mermaid flowchart.
pub fn deptree_mermaid(env: &Environment, roots: &[String]) -> String {
    let (nodes, edges) = deptree::graph(env, roots);
    let id = |name: &str| {
        nodes
            .iter()
            .position(|n| n == name)
            .map_or("n".into(), |i| format!("n{i}"))
    };
    let mut out = String::from("flowchart TD\n");
    for (i, n) in nodes.iter().enumerate() {
        out.push_str(&format!("  n{i}[\"{}\"]\n", n.replace('"', "#quot;")));
    }
    for (a, b) in &edges {
        out.push_str(&format!("  {} --> {}\n", id(a), id(b)));
    }
    out
}

/// One service of `deptree --format json`.
#[derive(serde::Serialize)]
struct TreeService<'a> {
    name: &'a str,
    dependencies: Vec<String>,
    instances: Vec<&'a str>,
}

/// The dependency graph as JSON: `{"roots": [...], "services": [{"name",
/// "dependencies", "instances"}]}`, services sorted by name (README § JSON output).
pub fn deptree_json(env: &Environment, roots: &[String]) -> String {
    let (nodes, _) = deptree::graph(env, roots);
    let services: Vec<TreeService> = nodes
        .iter()
        .map(|name| TreeService {
            name,
            dependencies: deptree::direct_dependencies(env, name),
            instances: env
                .instances
                .iter()
                .filter(|i| &i.service == name)
                .map(|i| i.name.as_str())
                .collect(),
        })
        .collect();
    json(&serde_json::json!({"roots": roots, "services": services}))
}

/// The JSON Schema of a description (`maestro schema`), pretty-printed.
pub fn schema(schema: &serde_json::Value) -> String {
    json(schema)
}

/// The resolved model as JSON, with registry passwords and TLS private
/// keys replaced by `<redacted>`.
pub fn dump(env: &Environment) -> String {
    let mut env = env.clone();
    for i in &env.instances {
        env.container_env(i);
    }
    for r in &mut env.registries {
        if r.password.is_some() {
            r.password = Some("<redacted>".into());
        }
    }
    for s in &mut env.ships {
        if let Some(tls) = &mut s.tls {
            if tls.key.is_some() {
                tls.key = Some("<redacted>".into());
            }
        }
    }
    json(&env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_terminal_columns() {
        assert_eq!(display_width("web-1"), 5);
        assert_eq!(display_width("数据库"), 6);
        assert_eq!(display_width("e\u{301}"), 1); // e + combining acute
        assert_eq!(cut_to_width("数据库", 5), "数据");
        assert_eq!(cut_to_width("数据库", 6), "数据库");
        assert_eq!(cut_to_width("abc", 0), "");
    }

    #[test]
    fn messages_are_coloured_only_when_asked() {
        assert_eq!(format_message(Level::Error, "x", false), "error: x\n");
        assert_eq!(
            format_message(Level::Warning, "y", true),
            "\x1b[1;33mwarning\x1b[0m: y\n"
        );
    }

    #[test]
    fn durations() {
        let ms = Duration::from_millis;
        assert_eq!(short_duration(ms(400)), "0.4s");
        assert_eq!(short_duration(ms(59_990)), "59.9s");
        assert_eq!(short_duration(ms(61_500)), "1m01.5s");
        assert_eq!(short_duration(ms(7_380_000)), "2h03m");
        let s = Duration::from_secs;
        assert_eq!(uptime(s(42)), "42s");
        assert_eq!(uptime(s(182)), "3m2s");
        assert_eq!(uptime(s(3900)), "1h5m");
        assert_eq!(uptime(s(2 * 86_400 + 3 * 3600 + 4 * 60)), "2d3h4m");
    }

    #[test]
    fn paint_only_when_enabled() {
        assert_eq!(paint("ok", Paint::Green, false), "ok");
        assert_eq!(paint("ok", Paint::Green, true), "\x1b[32mok\x1b[0m");
        assert_eq!(
            paint("x", Paint::Indexed(208), true),
            "\x1b[38;5;208mx\x1b[0m"
        );
        assert_eq!(paint("", Paint::Red, true), "");
    }

    #[test]
    fn env_text_uses_bare_names_for_null() {
        let vars = [
            EnvVar {
                name: "A".into(),
                value: Some("1".into()),
            },
            EnvVar {
                name: "B".into(),
                value: None,
            },
        ];
        assert_eq!(env_text(&vars), "A=1\nB\n");
        assert_eq!(env_json(&vars), "{\n  \"A\": \"1\",\n  \"B\": null\n}\n");
    }
}
