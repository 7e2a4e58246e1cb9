//! Compose's variable interpolation (`${VAR}`, `${VAR:-default}`, `$$`).
//!
//! Compose substitutes variables when it runs (`docker compose up`), from
//! the process environment and the `.env` file next to the compose file. The
//! importer keeps that timing: a string with variables becomes a Jinja
//! expression of maestro's description (whose `env` is the process
//! environment when maestro runs), with the `.env` values as defaults. So no
//! value of the environment (a password, a token) is written into the
//! output. Only where the importer must read a value itself (a port to turn
//! around, a replica count, a duration) is it resolved at import time, from
//! the same sources, with a note saying so.

use std::collections::BTreeMap;

/// A piece of an interpolated string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// Text as it is (`$$` already turned into `$`).
    Lit(String),
    /// A variable, with what to do when it is unset or empty.
    Var {
        /// Its name.
        name: String,
        /// The operator.
        op: Op,
        /// The operator's argument (itself interpolated).
        arg: Vec<Seg>,
    },
}

/// `${NAME<op>arg}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `${NAME}`, `$NAME`.
    Plain,
    /// `:-` (colon: also when empty) and `-`.
    Default { colon: bool },
    /// `:+` and `+`.
    Alternative { colon: bool },
    /// `:?` and `?`: required.
    Required { colon: bool },
}

/// The variables compose would read: the process environment first, then
/// the `.env` file.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// The process environment (only looked up).
    pub environ: BTreeMap<String, String>,
    /// The `.env` file's values.
    pub dotenv: BTreeMap<String, String>,
}

impl Vars {
    fn get(&self, name: &str) -> Option<&str> {
        self.environ
            .get(name)
            .or_else(|| self.dotenv.get(name))
            .map(String::as_str)
    }
}

/// Splits `text` into literal text and variables; the error says what is
/// wrong with a `$`.
pub fn parse(text: &str) -> Result<Vec<Seg>, String> {
    let (segs, rest) = parse_until(text, None)?;
    debug_assert!(rest.is_empty());
    Ok(segs)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Parses up to the `}` closing a `${...}` argument (`close`), or the end.
fn parse_until(text: &str, close: Option<char>) -> Result<(Vec<Seg>, &str), String> {
    let mut segs = Vec::new();
    let mut lit = String::new();
    let mut rest = text;
    loop {
        let Some(c) = rest.chars().next() else {
            if close.is_some() {
                return Err(format!("unclosed ${{ in {text:?}"));
            }
            break;
        };
        if Some(c) == close {
            break;
        }
        if c != '$' {
            lit.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let after = &rest[1..];
        match after.chars().next() {
            Some('$') => {
                lit.push('$');
                rest = &after[1..];
            }
            Some('{') => {
                let inner = &after[1..];
                let end = inner.find(|c: char| !is_name(c)).unwrap_or(inner.len());
                let name = &inner[..end];
                if name.is_empty() || !name.starts_with(is_name_start) {
                    return Err(format!(
                        "invalid interpolation format in {text:?}: a variable name must follow ${{"
                    ));
                }
                let tail = &inner[end..];
                let (op, op_len) = match tail.as_bytes() {
                    [] => return Err(format!("unclosed ${{ in {text:?}")),
                    [b'}', ..] => (Op::Plain, 0),
                    [b':', b'-', ..] => (Op::Default { colon: true }, 2),
                    [b':', b'+', ..] => (Op::Alternative { colon: true }, 2),
                    [b':', b'?', ..] => (Op::Required { colon: true }, 2),
                    [b'-', ..] => (Op::Default { colon: false }, 1),
                    [b'+', ..] => (Op::Alternative { colon: false }, 1),
                    [b'?', ..] => (Op::Required { colon: false }, 1),
                    _ => {
                        return Err(format!(
                            "invalid interpolation format in {text:?}: unexpected text after ${{{name}"
                        ));
                    }
                };
                let (arg, tail) = parse_until(&tail[op_len..], Some('}'))?;
                flush(&mut segs, &mut lit);
                segs.push(Seg::Var {
                    name: name.to_owned(),
                    op,
                    arg,
                });
                rest = &tail[1..];
            }
            Some(c) if is_name_start(c) => {
                let end = after.find(|c: char| !is_name(c)).unwrap_or(after.len());
                flush(&mut segs, &mut lit);
                segs.push(Seg::Var {
                    name: after[..end].to_owned(),
                    op: Op::Plain,
                    arg: Vec::new(),
                });
                rest = &after[end..];
            }
            _ => {
                return Err(format!(
                    "invalid interpolation format in {text:?}: write $$ for a literal $"
                ));
            }
        }
    }
    flush(&mut segs, &mut lit);
    Ok((segs, rest))
}

fn flush(segs: &mut Vec<Seg>, lit: &mut String) {
    if !lit.is_empty() {
        segs.push(Seg::Lit(std::mem::take(lit)));
    }
}

/// Whether any variable is used.
pub fn has_vars(segs: &[Seg]) -> bool {
    segs.iter().any(|s| matches!(s, Seg::Var { .. }))
}

/// The names of the variables used, arguments included.
pub fn names(segs: &[Seg]) -> Vec<String> {
    let mut out = Vec::new();
    for s in segs {
        if let Seg::Var { name, arg, .. } = s {
            out.push(name.clone());
            out.extend(names(arg));
        }
    }
    out
}

/// The names of the required variables (`${X:?}`), which maestro does not
/// enforce.
pub fn required(segs: &[Seg]) -> Vec<String> {
    let mut out = Vec::new();
    for s in segs {
        if let Seg::Var { name, op, arg } = s {
            if matches!(op, Op::Required { .. }) {
                out.push(name.clone());
            }
            out.extend(required(arg));
        }
    }
    out
}

/// The value compose would give, now.
pub fn resolve(segs: &[Seg], vars: &Vars) -> String {
    let mut out = String::new();
    for s in segs {
        match s {
            Seg::Lit(t) => out.push_str(t),
            Seg::Var { name, op, arg } => {
                let value = vars.get(name);
                let set = |colon: bool| value.is_some_and(|v| !(colon && v.is_empty()));
                match op {
                    Op::Plain | Op::Required { .. } => out.push_str(value.unwrap_or("")),
                    Op::Default { colon } if set(*colon) => out.push_str(value.unwrap_or("")),
                    Op::Default { .. } => out.push_str(&resolve(arg, vars)),
                    Op::Alternative { colon } if set(*colon) => out.push_str(&resolve(arg, vars)),
                    Op::Alternative { .. } => {}
                }
            }
        }
    }
    out
}

/// A Jinja string literal.
fn literal(text: &str) -> String {
    let mut out = String::from("'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A Jinja expression computing what compose would: `env` (the process
/// environment when maestro runs) first, then the `.env` value.
fn expr(segs: &[Seg], dotenv: &BTreeMap<String, String>) -> String {
    if segs.is_empty() {
        return "''".into();
    }
    let parts: Vec<String> = segs
        .iter()
        .map(|s| match s {
            Seg::Lit(t) => literal(t),
            Seg::Var { name, op, arg } => {
                let fallback = dotenv.get(name).map(|v| literal(v));
                let lookup = |default: &str| {
                    format!(
                        "env.get({}, {})",
                        literal(name),
                        fallback.clone().unwrap_or_else(|| default.to_owned())
                    )
                };
                match op {
                    Op::Plain | Op::Required { .. } => lookup("''"),
                    Op::Default { colon: true } => {
                        format!("({} or {})", lookup("none"), expr(arg, dotenv))
                    }
                    Op::Default { colon: false } => lookup(&format!("({})", expr(arg, dotenv))),
                    Op::Alternative { colon: true } => {
                        format!("({} if {} else '')", expr(arg, dotenv), lookup("none"))
                    }
                    Op::Alternative { colon: false } => format!(
                        "({} if {} is not none else '')",
                        expr(arg, dotenv),
                        lookup("none")
                    ),
                }
            }
        })
        .collect();
    parts.join(" ~ ")
}

/// The string as a Jinja tag that renders to a JSON (so YAML double-quoted)
/// string: `{{ (env.get('TAG', 'latest')) | tojson }}`.
pub fn jinja(segs: &[Seg], dotenv: &BTreeMap<String, String>) -> String {
    format!("{{{{ ({}) | tojson }}}}", expr(segs, dotenv))
}

/// Reads a `.env` file as compose does: `KEY=VALUE`, `export` allowed,
/// quotes removed (escapes in double quotes), `#` comments.
pub fn parse_dotenv(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        out.insert(k.trim().to_owned(), unquote(v.trim()));
    }
    out
}

/// A `.env` value without its quotes (or its ` #` comment when unquoted).
pub fn unquote(v: &str) -> String {
    if let Some(inner) = v.strip_prefix('\'') {
        return inner.split('\'').next().unwrap_or("").to_owned();
    }
    if let Some(inner) = v.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(c) => out.push(c),
                    None => {}
                },
                c => out.push(c),
            }
        }
        return out;
    }
    match v.find(" #") {
        Some(at) => v[..at].trim_end().to_owned(),
        None => v.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Variables as (name, value) pairs.
    type Pairs<'a> = &'a [(&'a str, &'a str)];

    fn vars(environ: Pairs, dotenv: Pairs) -> Vars {
        let m = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        Vars {
            environ: m(environ),
            dotenv: m(dotenv),
        }
    }

    /// The Jinja expression, rendered by maestro's own template pass with
    /// `environ`, gives what compose's resolution gives.
    fn render(text: &str, v: &Vars) -> String {
        let segs = parse(text).unwrap();
        let doc = format!("{}\n", jinja(&segs, &v.dotenv));
        let out = crate::config::load::render_with(
            &doc,
            "t.yaml",
            std::path::Path::new("."),
            v.environ.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .unwrap_or_else(|e| panic!("{text}: {e}\n{doc}"));
        let node = crate::config::yaml::parse(&out).unwrap().unwrap();
        node.scalar().unwrap().value.py_str()
    }

    #[test]
    fn jinja_and_resolution_agree_with_compose() {
        let cases: &[(&str, Pairs, Pairs, &str)] = &[
            ("${TAG}", &[("TAG", "1.2")], &[], "1.2"),
            ("${TAG}", &[], &[("TAG", "dot")], "dot"),
            ("${TAG}", &[("TAG", "env")], &[("TAG", "dot")], "env"),
            ("${TAG}", &[], &[], ""),
            ("$TAG-x", &[("TAG", "t")], &[], "t-x"),
            ("${TAG:-latest}", &[("TAG", "")], &[], "latest"),
            ("${TAG-latest}", &[("TAG", "")], &[], ""),
            ("${TAG-latest}", &[], &[], "latest"),
            ("${A:-${B:-deep}}", &[], &[("B", "b")], "b"),
            ("${A:-${B:-deep}}", &[], &[], "deep"),
            ("${A:+on}", &[("A", "1")], &[], "on"),
            ("${A:+on}", &[("A", "")], &[], ""),
            ("${A+on}", &[("A", "")], &[], "on"),
            ("${A:?need it}", &[("A", "v")], &[], "v"),
            ("$$HOME and $${X}", &[("HOME", "/h")], &[], "$HOME and ${X}"),
            (
                "q'uo\"te\\${A}",
                &[("A", "it's \"x\" \\ {{ y }}")],
                &[],
                "q'uo\"te\\it's \"x\" \\ {{ y }}",
            ),
            ("pré-${A}", &[("A", "ü")], &[], "pré-ü"),
            (
                "{{ x }}}} {% y %} {# z #}${A}",
                &[("A", "a")],
                &[],
                "{{ x }}}} {% y %} {# z #}a",
            ),
        ];
        for (text, environ, dotenv, want) in cases {
            let v = vars(environ, dotenv);
            assert_eq!(resolve(&parse(text).unwrap(), &v), *want, "resolve {text}");
            assert_eq!(render(text, &v), *want, "jinja {text}");
        }
    }

    #[test]
    fn bad_formats_say_what_is_wrong() {
        for (text, what) in [
            ("${}", "a variable name must follow"),
            ("${1A}", "a variable name must follow"),
            ("${A", "unclosed"),
            ("${A:-x", "unclosed"),
            ("${A!}", "unexpected text after ${A"),
            ("a $ b", "write $$ for a literal $"),
            ("end$", "write $$ for a literal $"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(what), "{text}: {err}");
        }
        assert_eq!(names(&parse("${A:-${B}} $C").unwrap()), ["A", "B", "C"]);
        assert_eq!(required(&parse("${A:?x} ${B}").unwrap()), ["A"]);
        assert!(!has_vars(&parse("$$x").unwrap()));
    }

    #[test]
    fn dotenv_reads_like_compose() {
        let env = parse_dotenv(
            "# c\nA=1\nexport B=two\nC=\"q \\\"x\\\" # no\"\nD='s # no'\nE=v # comment\n\nbad\n",
        );
        let got: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            got,
            [
                ("A", "1"),
                ("B", "two"),
                ("C", "q \"x\" # no"),
                ("D", "s # no"),
                ("E", "v")
            ]
        );
    }
}
