//! Reading a description: file or stdin → Jinja rendering → YAML nodes.
//!
//! MaestroNG renders the file with Jinja2 before parsing it, with the
//! process environment as `env` (`{{ env.HOME }}`), lenient about undefined
//! names, and with `{% include %}` resolving next to the file. minijinja is
//! close enough to Jinja2 for that use.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use minijinja::{AutoEscape, Environment as Jinja, Error as JError, ErrorKind, UndefinedBehavior};

use super::error::{ConfigError, Diagnostic};
use super::pycompat;
use super::yaml::{self, Mark, Node};

/// Where a description comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file path.
    File(PathBuf),
    /// Standard input (`-f -`).
    Stdin,
    /// Text already in memory (tests); `base_dir` resolves envfiles.
    Text {
        /// The text.
        text: String,
        /// Name used in messages.
        name: String,
        /// Directory relative paths resolve against.
        base_dir: PathBuf,
    },
}

impl Source {
    /// `-` means stdin, as in MaestroNG.
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::File(PathBuf::from(arg))
        }
    }

    /// The name used in messages.
    pub fn display_name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "-".into(),
            Source::Text { name, .. } => name.clone(),
        }
    }
}

/// A rendered and parsed description, before the model is built.
#[derive(Debug)]
pub struct Parsed {
    /// The name for messages.
    pub file: String,
    /// The YAML root (`None` for an empty document).
    pub root: Option<Node>,
    /// Base directory for relative paths.
    pub base_dir: PathBuf,
}

/// Reads, renders and parses `source` with `vars` as the template's `env`.
pub fn read(source: &Source, vars: &BTreeMap<String, String>) -> Result<Parsed, ConfigError> {
    read_with(source, vars)
}

/// [`read`] with `env` given as (name, value) pairs in order, as
/// [`process_environ`] lists the process environment.
pub fn read_with<K: AsRef<str>, V: AsRef<str>>(
    source: &Source,
    vars: impl IntoIterator<Item = (K, V)>,
) -> Result<Parsed, ConfigError> {
    let file = source.display_name();
    let (text, base_dir) = match source {
        Source::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
                file: file.clone(),
                source: e,
            })?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (text, base)
        }
        Source::Stdin => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| ConfigError::Read {
                    file: file.clone(),
                    source: e,
                })?;
            let cwd = std::env::current_dir().unwrap_or_default();
            (text, cwd)
        }
        Source::Text { text, base_dir, .. } => (text.clone(), base_dir.clone()),
    };
    let rendered = render_with(&text, &file, &base_dir, vars)?;
    let root = yaml::parse(&rendered).map_err(|e| {
        ConfigError::Yaml(Diagnostic {
            file: file.clone(),
            mark: Some(e.mark),
            path: String::new(),
            message: e.message,
        })
    })?;
    Ok(Parsed {
        file,
        root,
        base_dir,
    })
}

/// Renders the description as a Jinja template with `vars` as its `env`.
pub fn render(
    text: &str,
    file: &str,
    base_dir: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<String, ConfigError> {
    render_with(text, file, base_dir, vars)
}

/// [`render`] with `env` given as (name, value) pairs in order.
pub fn render_with<K: AsRef<str>, V: AsRef<str>>(
    text: &str,
    file: &str,
    base_dir: &Path,
    vars: impl IntoIterator<Item = (K, V)>,
) -> Result<String, ConfigError> {
    let mut env = Jinja::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // Jinja2 prints Python values: `None`, `True`, `['a', 1]`.
    env.set_formatter(|out, _state, value| {
        out.write_str(&pycompat::py_str(value))
            .map_err(JError::from)
    });
    let base = base_dir.to_path_buf();
    env.set_loader(move |name: &str| {
        // Like Jinja2's FileSystemLoader: no `..`, no absolute paths.
        let relative = Path::new(name);
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Ok(None);
        }
        match std::fs::read_to_string(base.join(relative)) {
            Ok(text) => Ok(Some(pycompat::rewrite_literals(&text).unwrap_or(text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(JError::new(
                ErrorKind::InvalidOperation,
                format!("cannot read {name}: {e}"),
            )),
        }
    });
    // Python's methods and containers, as Jinja2 templates use them.
    pycompat::install(&mut env);
    let ctx = minijinja::context! { env => pycompat::environ(vars) };
    let diag = |outer: JError| {
        // `{% include %}` wraps the included file's error: report that one.
        let mut e = &outer;
        while let Some(inner) =
            std::error::Error::source(e).and_then(|s| s.downcast_ref::<JError>())
        {
            e = inner;
        }
        let mut message = e.kind().to_string();
        match e.detail() {
            // pycompat's detail says it all: "unknown method 'x' on a string".
            Some(detail) if e.kind() == ErrorKind::UnknownMethod => message = detail.to_owned(),
            Some(detail) => message = format!("{message}: {detail}"),
            None => {}
        }
        // An error inside `{% include %}`d text names that file.
        let file = match e.name() {
            Some(name) if name != file => base_dir.join(name).display().to_string(),
            _ => file.to_owned(),
        };
        ConfigError::Template(Diagnostic {
            file,
            mark: e.line().map(|line| Mark { line, col: 1 }),
            path: String::new(),
            message: format!("template error: {message}"),
        })
    };
    let text = pycompat::rewrite_literals(text).unwrap_or_else(|| text.to_owned());
    let template = env.template_from_named_str(file, &text).map_err(diag)?;
    template.render(ctx).map_err(diag)
}

/// The process environment as the template's `env`.
pub fn process_vars() -> BTreeMap<String, String> {
    process_environ().into_iter().collect()
}

/// The process environment in its order, as Python's `os.environ` lists it.
pub fn process_environ() -> Vec<(String, String)> {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str, vars: &[(&str, &str)]) -> Result<String, ConfigError> {
        render_with(text, "t.yaml", Path::new("."), vars.iter().copied())
    }

    #[test]
    fn env_is_in_the_context_and_undefined_is_lenient() {
        assert_eq!(
            r("a: {{ env.HOME }}\n", &[("HOME", "/h")]).unwrap(),
            "a: /h"
        );
        assert_eq!(r("a: {{ env['X'] }}", &[("X", "1")]).unwrap(), "a: 1");
        assert_eq!(r("a: {{ env.get('Y', 'd') }}", &[]).unwrap(), "a: d");
        assert_eq!(
            r("a: {{ env.MISSING }}|{{ nothing }}", &[]).unwrap(),
            "a: |"
        );
        // os.environ: the process's order, the first of duplicates, its repr.
        assert_eq!(
            r(
                "{{ env.keys()|list }} {{ env.B }} {{ env }}",
                &[("B", "1"), ("A", "2"), ("B", "3")]
            )
            .unwrap(),
            "['B', 'A'] 1 environ({'B': '1', 'A': '2'})"
        );
    }

    #[test]
    fn included_files_get_python_containers_and_name_their_errors() {
        let dir = std::env::temp_dir().join(format!("maestro-jinja-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("part.yaml"),
            "{% set ids = [] %}{% set DO = ids.append(1) %}\nids: {{ ids }} {{ {'b': 1, 'a': 2} }}",
        )
        .unwrap();
        std::fs::write(dir.join("bad.yaml"), "a: 1\nb: {{ 'x'.nope() }}\n").unwrap();
        let vars: [(&str, &str); 0] = [];
        let ok = render_with("{% include 'part.yaml' %}", "main.yaml", &dir, vars);
        let bad = render_with("a: 1\n{% include 'bad.yaml' %}", "main.yaml", &dir, vars);
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(ok.unwrap(), "\nids: [1] {'b': 1, 'a': 2}");
        let err = bad.unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}:2:1: template error: unknown method 'nope' on a string",
                dir.join("bad.yaml").display()
            )
        );
    }

    #[test]
    fn template_errors_name_the_line() {
        let err = r("a: 1\nb: {{ env.X.y.z }}\n", &[]).unwrap_err();
        let d = err.diagnostic().unwrap();
        assert_eq!(d.mark.map(|m| m.line), Some(2), "{d}");
        let err = r("a: {% if %}\n", &[]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.yaml:1:1: template error: syntax error"),
            "{err}"
        );
    }
}
