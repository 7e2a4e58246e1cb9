//! Everything maestro shows the user, and the only module that writes to
//! the terminal. Renderers return strings (easy to test); [`emit`] and
//! [`report`] write them, with colour only on a terminal and never with
//! `NO_COLOR`.

use std::io::{IsTerminal, Write};

mod ships;

pub use ships::{ships_json, ships_text};

use crate::config::model::{EnvVar, Environment};
use crate::plan::{Plan, deptree};

/// Writes `text` to standard output. A closed pipe (`maestro env x | head`)
/// is not an error.
pub fn emit(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Severity of a message on standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `warning:` (yellow).
    Warning,
    /// `error:` (red).
    Error,
}

fn stderr_colour() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
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

fn json<T: serde::Serialize>(value: &T) -> String {
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
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
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
    out
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

/// The resolved model as JSON, with registry passwords and TLS private
/// keys replaced by `<redacted>`.
pub fn dump(env: &Environment) -> String {
    let mut env = env.clone();
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
    fn messages_are_coloured_only_when_asked() {
        assert_eq!(format_message(Level::Error, "x", false), "error: x\n");
        assert_eq!(
            format_message(Level::Warning, "y", true),
            "\x1b[1;33mwarning\x1b[0m: y\n"
        );
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
