//! A small YAML writer for the imported description: block mappings and
//! sequences, flow style for short leaves, comments between entries.
//!
//! The text it writes is read back by maestro's loader, which renders it as a
//! Jinja template first and then reads YAML 1.1: every string that YAML 1.1
//! would read as something else (`yes`, `5432:5432`, `1e3`) is quoted, and no
//! `{` of the data ever reaches the template engine as `{{`, `{%` or `{#`.

use std::fmt::Write;

/// A value to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Y {
    /// A string, quoted when YAML 1.1 would read it otherwise.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A Jinja expression, written as it is: it renders to a JSON string,
    /// which is a YAML double-quoted scalar.
    Jinja(String),
    /// A sequence.
    Seq(Vec<Y>),
    /// A mapping, in order, with comments between its entries.
    Map(Vec<Item>),
    /// A mapping always written as a block (a service), however short.
    Block(Vec<Item>),
}

/// An entry of a mapping, or a comment line before the next one.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `key: value`.
    Entry(String, Y),
    /// `# text`.
    Comment(String),
}

impl Y {
    /// A string value.
    pub fn str(text: impl Into<String>) -> Y {
        Y::Str(text.into())
    }

    /// A mapping of entries only.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Y)>) -> Y {
        Y::Map(
            entries
                .into_iter()
                .map(|(k, v)| Item::Entry(k.into(), v))
                .collect(),
        )
    }

    fn is_leaf(&self) -> bool {
        matches!(self, Y::Str(_) | Y::Int(_) | Y::Bool(_) | Y::Jinja(_))
    }

    /// The flow form (`[a, b]`, `{k: v}`); none for a mapping with comments.
    fn flow(&self) -> Option<String> {
        match self {
            Y::Str(s) => Some(scalar(s)),
            Y::Int(n) => Some(n.to_string()),
            Y::Bool(b) => Some(b.to_string()),
            Y::Jinja(j) => Some(j.clone()),
            Y::Seq(items) => {
                let parts: Option<Vec<String>> = items.iter().map(Y::flow).collect();
                Some(format!("[{}]", parts?.join(", ")))
            }
            Y::Map(items) => {
                let mut parts = Vec::new();
                for item in items {
                    match item {
                        Item::Entry(k, v) => parts.push(format!("{}: {}", scalar(k), v.flow()?)),
                        Item::Comment(_) => return None,
                    }
                }
                Some(format!("{{{}}}", parts.join(", ")))
            }
            Y::Block(items) if items.is_empty() => Some("{}".into()),
            Y::Block(_) => None,
        }
    }
}

/// Widest flow collection written on one line.
const FLOW_WIDTH: usize = 72;

/// Writes `doc` (a mapping) as a YAML document.
pub fn document(doc: &Y) -> String {
    let mut out = String::new();
    match doc {
        Y::Map(items) => map_block(&mut out, items, 0),
        other => {
            let _ = writeln!(out, "{}", other.flow().unwrap_or_default());
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn map_block(out: &mut String, items: &[Item], level: usize) {
    for item in items {
        match item {
            Item::Comment(text) => {
                for line in text.lines() {
                    indent(out, level);
                    let _ = writeln!(out, "# {}", comment(line));
                }
            }
            Item::Entry(key, value) => {
                indent(out, level);
                out.push_str(&scalar(key));
                out.push(':');
                value_after_key(out, value, level);
            }
        }
    }
}

/// A value after `key:` (or `- `): on the same line when it fits, else in a
/// block below.
fn value_after_key(out: &mut String, value: &Y, level: usize) {
    // The sections of the top level are blocks, however short.
    let section = level == 0 && matches!(value, Y::Map(m) if !m.is_empty());
    if let Some(flow) = short_flow(value).filter(|_| !section) {
        let _ = writeln!(out, " {flow}");
        return;
    }
    match value {
        Y::Map(items) | Y::Block(items) => {
            out.push('\n');
            map_block(out, items, level + 2);
        }
        Y::Seq(items) => {
            out.push('\n');
            seq_block(out, items, level + 2);
        }
        // A leaf always has a flow form, written above.
        Y::Str(_) | Y::Int(_) | Y::Bool(_) | Y::Jinja(_) => {
            let _ = writeln!(out, " {}", value.flow().unwrap_or_default());
        }
    }
}

fn short_flow(value: &Y) -> Option<String> {
    let flow = value.flow()?;
    (value.is_leaf() || flow.len() <= FLOW_WIDTH).then_some(flow)
}

fn seq_block(out: &mut String, items: &[Y], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Y::Map(entries) | Y::Block(entries)
                if short_flow(item).is_none() && !entries.is_empty() =>
            {
                // The first entry on the dash's line, the others below it.
                let mut first = String::new();
                map_block(&mut first, entries, level + 2);
                out.push(' ');
                out.push_str(&first[level + 2..]);
            }
            _ => value_after_key(out, item, level),
        }
    }
}

/// YAML 1.1 words PyYAML reads as booleans or null.
const KEYWORDS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "",
];

/// Whether `text` can be written plain and still be read back as this
/// string by a YAML 1.1 reader.
fn plain_ok(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./@+-:".contains(c))
        && !text.ends_with(':')
        && !text.contains("::")
        && !KEYWORDS.contains(&text.to_ascii_lowercase().as_str())
}

/// A string as a YAML scalar: plain when safe, else double-quoted with every
/// `{` escaped (so the Jinja pass sees no tag).
pub fn scalar(text: &str) -> String {
    if plain_ok(text) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '{' => out.push_str("\\x7b"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A comment line with no Jinja tag in it.
fn comment(text: &str) -> String {
    text.replace("{{", "{ {")
        .replace("{%", "{ %")
        .replace("{#", "{ #")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::{self, PyScalar};

    /// Every string comes back as the same string through maestro's own
    /// reader (after the Jinja pass, which must leave it alone).
    #[test]
    fn strings_round_trip_through_the_loader() {
        let samples = [
            "plain",
            "yes",
            "No",
            "on",
            "~",
            "",
            "5432:5432",
            "22:22",
            "1e3",
            "0755",
            "0x1F",
            "1_000",
            ".inf",
            "-",
            "a: b",
            "#x",
            "x #y",
            "{{ env.HOME }}",
            "{% if %}",
            "{#c#}",
            "quote\"back\\slash",
            "tab\tnl\n",
            "nginx:1.25",
            "/var/lib/x",
            "über",
            "a{",
            "2001-02-03",
            "@at",
            "*star",
            "&amp",
            "!tag",
            "%pct",
            "`tick",
            "key:",
            "a::b",
            "1.5",
            "-1",
            "+1",
            "null",
            "NULL",
            "True",
            "ctrl\u{1}",
            "trailing ",
            " leading",
        ];
        for s in samples {
            let doc = document(&Y::map([("k", Y::str(s))]));
            let rendered = crate::config::load::render_with(
                &doc,
                "t.yaml",
                std::path::Path::new("."),
                std::iter::empty::<(&str, &str)>(),
            )
            .unwrap_or_else(|e| panic!("{s:?}: {e}\n{doc}"));
            let node = yaml::parse(&rendered).unwrap().unwrap();
            let yaml::Value::Map(entries) = node.value else {
                panic!("{doc}")
            };
            let value = entries[0].1.scalar().unwrap().value.clone();
            assert_eq!(value, PyScalar::Str(s.to_owned()), "{s:?} written as {doc}");
        }
    }

    #[test]
    fn blocks_and_flows() {
        let doc = Y::Map(vec![
            Item::Comment("top {{x}}".into()),
            Item::Entry("name".into(), Y::str("app")),
            Item::Entry(
                "services".into(),
                Y::map([(
                    "web",
                    Y::Map(vec![
                        Item::Comment("not imported: build".into()),
                        Item::Entry("ports".into(), Y::map([("p80", Y::str("80:8080"))])),
                        Item::Entry(
                            "lifecycle".into(),
                            Y::map([(
                                "running",
                                Y::Seq(vec![Y::map([
                                    ("type", Y::str("health")),
                                    ("max_wait", Y::Int(30)),
                                ])]),
                            )]),
                        ),
                        Item::Entry("empty".into(), Y::Map(Vec::new())),
                        Item::Entry(
                            "deep".into(),
                            Y::Seq(vec![Y::map([
                                ("a", Y::Seq(vec![Y::Int(1)])),
                                ("b", Y::Bool(true)),
                            ])]),
                        ),
                    ]),
                )]),
            ),
        ]);
        assert_eq!(
            document(&doc),
            "# top { {x}}\nname: app\nservices:\n  web:\n    # not imported: build\n    \
             ports: {p80: \"80:8080\"}\n    lifecycle: {running: [{type: health, max_wait: 30}]}\n    \
             empty: {}\n    deep: [{a: [1], b: true}]\n"
        );
    }
}
