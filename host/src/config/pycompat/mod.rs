//! Jinja2's Python semantics for the description's template pre-pass.
//!
//! MaestroNG renders `maestro.yaml` with Jinja2, where every value is a
//! Python object: `servers.items()`, `ids.append(x)` on a list made with
//! `{% set ids = [] %}`, `'{}:{}'.format(a, b)`, `s.split()` are ordinary
//! Python methods, and `{{ [1, None] }}` prints Python's `[1, None]`.
//! minijinja has immutable values and none of those methods, so this module
//! adds them:
//!
//! * [`rewrite_literals`] turns the template's list and dict literals into
//!   calls that build a [`PyList`] / [`PyDict`]: containers with interior
//!   mutability (so `append`, `update`... change them in place, as in
//!   Python) that keep Python's insertion order;
//! * [`unknown_method_callback`] implements the `str`, `list`, `tuple` and
//!   `dict` methods Jinja2 templates call, with Python's results (written
//!   here where `minijinja_contrib::pycompat` differs from Python, delegated
//!   to it otherwise), and names the method and the type when there is none;
//! * [`py_str`] / [`py_repr`] print values as Python's `str()` / `repr()`
//!   do (the template's output, `|join`, `|string`, `str.format`).

mod args;
mod containers;
mod filters;
mod literals;
mod methods;
mod repr;
mod strings;

pub use containers::{PyDict, PyList, environ};
pub use literals::rewrite_literals;
pub use repr::{json_str, py_repr, py_str};

use std::sync::Mutex;

use minijinja::value::{Kwargs, ObjectRepr, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use self::{args::*, containers::*, filters::*, methods::*, strings::*};

/// The global function list literals are rewritten to.
const LIST_FN: &str = "__maestro_list";

/// The global function dict literals are rewritten to.
const DICT_FN: &str = "__maestro_dict";

/// Registers everything this module provides on `env`: the literal
/// builders, the Python methods, and the filters whose output must be
/// Python's (`join`, `string`, `list`, `tojson`).
pub fn install(env: &mut Environment<'_>) {
    env.add_function(LIST_FN, |args: &[Value]| -> Result<Value, Error> {
        no_kwargs(args, "a list literal")?;
        Ok(PyList::value(args.to_vec()))
    });
    env.add_function(DICT_FN, |args: &[Value]| -> Result<Value, Error> {
        no_kwargs(args, "a dict literal")?;
        let dict = PyDict::default();
        for pair in args.chunks(2) {
            match pair {
                [k, v] => dict.insert(k.clone(), v.clone()),
                _ => return Err(invalid("a dict literal needs key: value pairs")),
            }
        }
        Ok(Value::from_object(dict))
    });
    env.set_unknown_method_callback(unknown_method_callback);
    env.add_filter("join", filter_join);
    env.add_filter("string", |v: Value| Value::from(py_str(&v)));
    env.add_filter("list", filter_list);
    env.add_filter("tojson", filter_tojson);
    // Jinja2's `sort` and `dictsort` return Python lists, which `append`
    // can change.
    env.add_filter("sort", |state: &State, value: Value, kwargs: Kwargs| {
        to_pylist(minijinja::filters::sort(state, value, kwargs)?)
    });
    env.add_filter("dictsort", |value: &Value, kwargs: Kwargs| {
        to_pylist(minijinja::filters::dictsort(value, kwargs)?)
    });
    env.add_filter("groupby", filter_groupby);
    env.add_function("cycler", |args: &[Value]| -> Result<Value, Error> {
        no_kwargs(args, "cycler")?;
        if args.is_empty() {
            return Err(invalid("at least one item has to be provided"));
        }
        Ok(Value::from_object(Cycler {
            items: args.to_vec(),
            pos: Mutex::new(0),
        }))
    });
    env.add_function("joiner", |sep: Option<Value>| {
        Value::from_object(Joiner {
            sep: sep.unwrap_or_else(|| Value::from(", ")),
            used: Mutex::new(false),
        })
    });
    env.add_filter("center", |value: Value, args: Rest<Value>| {
        justify(&py_str(&value), "center", &args)
    });
    // minijinja-contrib's versions of these match Jinja2's.
    env.add_filter("filesizeformat", minijinja_contrib::filters::filesizeformat);
    env.add_filter("striptags", minijinja_contrib::filters::striptags);
    env.add_filter("truncate", filter_truncate);
    env.add_filter("wordcount", |v: Value| {
        let s = py_str(&v);
        let word = |c: char| c.is_alphanumeric() || c == '_';
        s.split(|c: char| !word(c))
            .filter(|w| !w.is_empty())
            .count()
    });
    env.add_filter("urlencode", filter_urlencode);
    env.add_filter("forceescape", |v: Value| {
        Value::from_safe_string(html_escape(&py_str(&v)))
    });
    env.add_filter("xmlattr", filter_xmlattr);
    env.add_filter("random", filter_random);
    env.add_test("callable", |v: Value| {
        v.as_object().is_some_and(|o| o.repr() == ObjectRepr::Plain)
    });
}

/// Python's methods on template values, for minijinja's
/// `set_unknown_method_callback`: `str`, `list`/`tuple` (values not built by
/// a template literal) and `dict` (`env`). An unknown method is an error
/// naming the method and the Python type.
pub fn unknown_method_callback(
    state: &mut State<'_, '_>,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let rv = match value.kind() {
        ValueKind::String => string_method(value.as_str().unwrap_or_default(), method, args),
        ValueKind::Map => other_map_method(value, method, args),
        ValueKind::Seq | ValueKind::Iterable => other_seq_method(value, method, args),
        ValueKind::Number => number_method(value, method, args),
        _ => None,
    };
    if let Some(rv) = rv {
        return rv;
    }
    // What is left for strings (isdigit, isalpha...) comes from
    // minijinja-contrib, which matches Python for them.
    if value.kind() == ValueKind::String {
        match minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args) {
            Err(e) if e.kind() == ErrorKind::UnknownMethod => {}
            other => return other,
        }
    }
    Err(unknown_method(value, method))
}

/// `int.bit_length()`, `float.is_integer()`.
fn number_method(value: &Value, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    match method {
        "bit_length" if value.is_integer() => Some(arity(method, args, 0, 0).and_then(|()| {
            let n = i128::try_from(value.clone())?;
            Ok(Value::from(128 - n.unsigned_abs().leading_zeros()))
        })),
        "is_integer" if !value.is_integer() => Some(arity(method, args, 0, 0).and_then(|()| {
            let f = f64::try_from(value.clone())?;
            Ok(Value::from(f.is_finite() && f.fract() == 0.0))
        })),
        _ => None,
    }
}

/// Methods of maps not built by a template literal (`env`, a namespace):
/// the reading ones; `copy()` gives a dict the template can change.
fn other_map_method(value: &Value, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    let dict = || PyDict::with(map_items(value));
    match method {
        "items" | "keys" | "values" => Some(arity(method, args, 0, 0).map(|()| {
            PyDictView::value(value.clone(), ViewKind::of(method).expect("a view method"))
        })),
        "get" => Some(dict_method(&dict(), method, args)),
        "copy" => Some(arity(method, args, 0, 0).map(|()| Value::from_object(dict()))),
        _ => None,
    }
}

/// Methods of sequences not built by a template literal (tuples, filter
/// results): the reading ones, `copy()`; the changing ones say why not.
fn other_seq_method(value: &Value, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    let items = || -> Result<Vec<Value>, Error> { Ok(value.try_iter()?.collect()) };
    let what = if value.is_tuple() { "tuple" } else { "list" };
    match method {
        "count" | "index" => Some(items().and_then(|items| seq_search(&items, method, args, what))),
        "copy" if !value.is_tuple() => {
            Some(arity(method, args, 0, 0).and_then(|()| Ok(PyList::value(items()?))))
        }
        "append" | "extend" | "insert" | "pop" | "remove" | "clear" | "reverse" | "sort"
            if !value.is_tuple() =>
        {
            Some(Err(invalid(format!(
                "cannot {method} here: this list is the result of a filter; only a list \
                 written in the template ([...]) or made with |list can change"
            ))))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::load::render_with as render;

    /// The table shared with the Jinja2 oracle: every `output` there is what
    /// Jinja2 3.1.6 renders (checked against the venv by the e2e test
    /// `jinja_differential`); errors are ours, Jinja2 raises for each too.
    const NO_VARS: [(&str, &str); 0] = [];

    const TABLE: &str = include_str!("../../../../tests/differential/jinja_methods.json");

    #[test]
    fn every_method_renders_like_jinja2() {
        let table: serde_json::Value = serde_json::from_str(TABLE).expect("JSON table");
        let vars: Vec<(String, String)> = table["env"]
            .as_object()
            .expect("env")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned()))
            .collect();
        let cases = table["cases"].as_array().expect("cases");
        assert!(cases.len() >= 50, "only {} cases", cases.len());
        let mut failures = Vec::new();
        for case in cases {
            let template = case["template"].as_str().expect("template");
            let got = render(template, "t.yaml", Path::new("."), vars.clone());
            match (case.get("output"), case.get("error"), got) {
                (Some(want), _, Ok(got)) if want.as_str() == Some(got.as_str()) => {}
                (_, Some(want), Err(e)) if e.to_string().contains(want.as_str().unwrap()) => {}
                (want_out, want_err, got) => failures.push(format!(
                    "{template}\n  Jinja2: {}\n  ours:   {got:?}",
                    want_out.or(want_err).unwrap()
                )),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn literals_become_builder_calls_on_the_same_lines() {
        let src = "a: {{ [1, x[0]] }}\n{% for k in {'a': y[1:2]} %}{% endfor %}\n{{ 'x[1]' }} {{ f()[0] }}";
        let out = rewrite_literals(src).expect("rewritten");
        assert_eq!(
            out,
            "a: {{ __maestro_list(1, x[0]) }}\n{% for k in __maestro_dict('a', y[1:2]) %}{% endfor %}\n{{ 'x[1]' }} {{ f()[0] }}"
        );
        assert_eq!(out.lines().count(), src.lines().count());
        // Text, raw blocks and comments are not expressions.
        assert_eq!(
            rewrite_literals("[a] {% raw %}{{ [1] }}{% endraw %} {# [2] #}"),
            None
        );
        // A template that does not tokenize is left to minijinja's error.
        assert_eq!(rewrite_literals("{{ [1 }"), None);
        assert_eq!(
            rewrite_literals("{{ 'é' ~ [1] }}").as_deref(),
            Some("{{ 'é' ~ __maestro_list(1) }}")
        );
    }

    #[test]
    fn hostile_arguments_are_errors_not_panics() {
        let r = |t: &str| render(t, "t.yaml", Path::new("."), NO_VARS);
        for t in [
            "{{ 'a'.ljust(99999999999) }}",
            "{{ 'a'.zfill(99999999999) }}",
            "{{ [1].pop(-9223372036854775807 - 1) }}",
            "{{ [1]|tojson(indent=99999999) }}",
            "{{ 'a'.split(1) }}",
            "{{ 'a'.center('x') }}",
            "{{ {}.update(1) }}",
            "{{ {}.update([(1, 2, 3)]) }}",
        ] {
            assert!(r(t).is_err(), "{t}");
        }
        assert_eq!(
            r("{{ 'abc'.find('b', -9223372036854775807 - 1) }}").unwrap(),
            "1"
        );
        assert_eq!(r("{{ [1, 2].index(2, -99999999999) }}").unwrap(), "1");
    }

    #[test]
    fn self_containing_containers_print_without_recursing_forever() {
        let out = render(
            "{% set l = [] %}{% set _ = l.append(l) %}{{ l|length }}",
            "t.yaml",
            Path::new("."),
            NO_VARS,
        )
        .unwrap();
        assert_eq!(out, "1");
        let l = PyList::value(Vec::new());
        l.downcast_object_ref::<PyList>()
            .unwrap()
            .lock()
            .push(l.clone());
        assert!(py_repr(&l).contains("[...]"));
    }
}
