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

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::formatting::{FormatStyle, format as mj_format};
use minijinja::machinery::{Token, tokenize};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::{DynObject, Enumerator, Kwargs, Object, ObjectRepr, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use super::pyvalue::{float_repr, str_repr};

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

// ---------------------------------------------------------------------------
// Literal rewriting
// ---------------------------------------------------------------------------

/// Rewrites the list and dict literals of a template into calls of the
/// builders [`install`] registers: `[a, b]` → `__maestro_list(a, b)`,
/// `{k: v}` → `__maestro_dict(k, v)`.
///
/// Why: minijinja builds literals as immutable values, and offers no hook to
/// build them otherwise; Jinja2's are Python lists and dicts that
/// `append`/`update` change in place. Only text on the literal's own lines
/// changes, so error line numbers stay right. Returns `None` when the
/// template does not tokenize (minijinja then reports the error on the
/// original text) or has no literal.
pub fn rewrite_literals(source: &str) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Open {
        /// `(`, a subscript `[`, or a literal left alone.
        Other,
        List,
        Dict,
    }
    let mut edits: Vec<(usize, usize, &str)> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    // The previous token inside the current `{{ }}` / `{% %}`, if any;
    // `Some(None)` right after the opening delimiter.
    let mut prev: Option<Option<Token<'_>>> = None;
    for item in tokenize(source, false, SyntaxConfig::default()) {
        let (token, span) = item.ok()?;
        let start = span.start_offset as usize;
        let end = span.end_offset as usize;
        match token {
            Token::VariableStart | Token::BlockStart => {
                prev = Some(None);
                stack.clear();
                continue;
            }
            Token::VariableEnd | Token::BlockEnd | Token::TemplateData(_) => {
                prev = None;
                stack.clear();
                continue;
            }
            _ => {}
        }
        let Some(before) = prev.take() else {
            continue;
        };
        match token {
            Token::BracketOpen => {
                if starts_literal(before.as_ref()) {
                    edits.push((start, end, "__maestro_list("));
                    stack.push(Open::List);
                } else {
                    stack.push(Open::Other);
                }
            }
            Token::BraceOpen => {
                edits.push((start, end, "__maestro_dict("));
                stack.push(Open::Dict);
            }
            Token::ParenOpen => stack.push(Open::Other),
            Token::BracketClose | Token::BraceClose | Token::ParenClose => {
                match (stack.pop()?, &token) {
                    (Open::List, Token::BracketClose) | (Open::Dict, Token::BraceClose) => {
                        edits.push((start, end, ")"));
                    }
                    (Open::Other, _) => {}
                    // `[1}`: not a template; minijinja says why.
                    _ => return None,
                }
            }
            Token::Colon if stack.last() == Some(&Open::Dict) => {
                edits.push((start, end, ","));
            }
            _ => {}
        }
        prev = Some(Some(token));
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(source.len() + edits.len() * 16);
    let mut at = 0;
    for (start, end, text) in edits {
        out.push_str(source.get(at..start)?);
        out.push_str(text);
        at = end;
    }
    out.push_str(source.get(at..)?);
    // Belt and braces: a rewrite minijinja cannot parse is dropped, so that
    // its error message is about the text the user wrote.
    minijinja::machinery::parse(&out, "<rewrite>", SyntaxConfig::default()).ok()?;
    Some(out)
}

/// Whether a `[` after `prev` opens a list literal (rather than a
/// subscript such as `x[0]`, `f()[0]`, `'ab'[0]`).
fn starts_literal(prev: Option<&Token<'_>>) -> bool {
    match prev {
        None => true,
        Some(Token::Ident(word)) => matches!(
            *word,
            "in" | "and" | "or" | "not" | "if" | "else" | "elif" | "is"
        ),
        Some(
            Token::Str(_)
            | Token::String(_)
            | Token::Int(_)
            | Token::Int128(_)
            | Token::Float(_)
            | Token::BracketClose
            | Token::ParenClose
            | Token::BraceClose,
        ) => false,
        Some(_) => true,
    }
}

// ---------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------

/// A Python list: a sequence that `append`, `extend`, `pop`... change in
/// place, as Jinja2 templates expect of `{% set xs = [] %}`.
#[derive(Debug, Default)]
pub struct PyList(Mutex<Vec<Value>>);

impl PyList {
    /// A template value holding a new list of `items`.
    pub fn value(items: Vec<Value>) -> Value {
        Value::from_object(PyList(Mutex::new(items)))
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Value>> {
        // A panic elsewhere cannot leave a Vec half-changed: keep going.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the items; no lock is held while the caller compares,
    /// prints or iterates them (an item may be this very list).
    fn snapshot(&self) -> Vec<Value> {
        self.lock().clone()
    }
}

impl Object for PyList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.lock().get(key.as_usize()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.snapshot())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        list_method(self, method, args)
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&py_repr(&Value::from_dyn_object(self.clone())))
    }
}

/// A Python dict: insertion-ordered, changed in place by `update`, `pop`,
/// `setdefault`.
#[derive(Debug, Default)]
pub struct PyDict {
    entries: Mutex<Vec<(Value, Value)>>,
    /// `os.environ`, which prints as `environ({...})`.
    environ: bool,
}

/// The template's `env`: MaestroNG passes `os.environ`, a dict of the
/// process environment in its order (the first of duplicate names wins,
/// as in CPython), printed `environ({...})`.
pub fn environ<K: AsRef<str>, V: AsRef<str>>(vars: impl IntoIterator<Item = (K, V)>) -> Value {
    let dict = PyDict {
        environ: true,
        ..PyDict::default()
    };
    {
        let mut entries = dict.lock();
        for (k, v) in vars {
            let key = Value::from(k.as_ref());
            if PyDict::position(&entries, &key).is_none() {
                entries.push((key, Value::from(v.as_ref())));
            }
        }
    }
    Value::from_object(dict)
}

impl PyDict {
    fn with(entries: Vec<(Value, Value)>) -> PyDict {
        PyDict {
            entries: Mutex::new(entries),
            environ: false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(Value, Value)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn snapshot(&self) -> Vec<(Value, Value)> {
        self.lock().clone()
    }

    fn position(entries: &[(Value, Value)], key: &Value) -> Option<usize> {
        entries.iter().position(|(k, _)| k == key)
    }

    /// Sets `key` (in place when present, at the end otherwise).
    fn insert(&self, key: Value, value: Value) {
        let mut entries = self.lock();
        match Self::position(&entries, &key) {
            Some(i) => entries[i].1 = value,
            None => entries.push((key, value)),
        }
    }

    fn get(&self, key: &Value) -> Option<Value> {
        let entries = self.lock();
        Self::position(&entries, key).map(|i| entries[i].1.clone())
    }

    fn remove(&self, key: &Value) -> Option<Value> {
        let mut entries = self.lock();
        Self::position(&entries, key).map(|i| entries.remove(i).1)
    }
}

impl Object for PyDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get(key)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.snapshot().into_iter().map(|(k, _)| k).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        if let Some(kind) = ViewKind::of(method) {
            arity(method, args, 0, 0)?;
            return Ok(PyDictView::value(
                Value::from_dyn_object(self.clone()),
                kind,
            ));
        }
        dict_method(self, method, args)
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&py_repr(&Value::from_dyn_object(self.clone())))
    }
}

/// Which view of a dict `keys()`, `values()`, `items()` give.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ViewKind {
    Keys,
    Values,
    Items,
}

impl ViewKind {
    fn of(method: &str) -> Option<ViewKind> {
        match method {
            "keys" => Some(ViewKind::Keys),
            "values" => Some(ViewKind::Values),
            "items" => Some(ViewKind::Items),
            _ => None,
        }
    }

    fn python_name(self) -> &'static str {
        match self {
            ViewKind::Keys => "dict_keys",
            ViewKind::Values => "dict_values",
            ViewKind::Items => "dict_items",
        }
    }
}

/// A live view of a dict, as Python's `dict.items()` and co: it follows
/// later changes to the dict and prints as `dict_items([('k', 1)])`.
#[derive(Debug)]
struct PyDictView {
    dict: Value,
    kind: ViewKind,
}

impl PyDictView {
    fn value(dict: Value, kind: ViewKind) -> Value {
        Value::from_object(PyDictView { dict, kind })
    }

    fn items(&self) -> Vec<Value> {
        map_items(&self.dict)
            .into_iter()
            .map(|(k, v)| match self.kind {
                ViewKind::Keys => k,
                ViewKind::Values => v,
                ViewKind::Items => Value::from(minijinja::value::Tuple::from([k, v])),
            })
            .collect()
    }
}

impl Object for PyDictView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.items().get(key.as_usize()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.items())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        self.dict.len()
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&py_repr(&Value::from_dyn_object(self.clone())))
    }
}

/// Another container seen through Python's `str()` (a tuple, a filter's
/// result, `env`): `str.format` prints its arguments with `Display`.
#[derive(Debug)]
struct PyView(Value);

impl Object for PyView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.0.as_object().map(DynObject::repr) {
            Some(repr) => repr,
            None => ObjectRepr::Plain,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.get_item(key).ok().filter(|v| !v.is_undefined())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.0.try_iter() {
            Ok(iter) => Enumerator::Values(iter.collect()),
            Err(_) => Enumerator::NonEnumerable,
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&py_str(&self.0))
    }
}

/// One group of Jinja2's `groupby`: the tuple `(grouper, list)`, also
/// readable as `.grouper` and `.list`.
#[derive(Debug)]
struct PyGroup {
    grouper: Value,
    list: Value,
}

impl Object for PyGroup {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match (key.as_usize(), key.as_str()) {
            (Some(0), _) | (_, Some("grouper")) => Some(self.grouper.clone()),
            (Some(1), _) | (_, Some("list")) => Some(self.list.clone()),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(2)
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&py_repr(&Value::from_dyn_object(self.clone())))
    }
}

/// Jinja2's `cycler(*items)`: `.next()`, `.reset()`, `.current`.
#[derive(Debug)]
struct Cycler {
    items: Vec<Value>,
    pos: Mutex<usize>,
}

impl Object for Cycler {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let pos = *self.pos.lock().unwrap_or_else(|e| e.into_inner());
        match key.as_str()? {
            "current" => self.items.get(pos).cloned(),
            "items" => Some(PyList::value(self.items.clone())),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut pos = self.pos.lock().unwrap_or_else(|e| e.into_inner());
        match method {
            "next" => {
                arity(method, args, 0, 0)?;
                let item = self.items[*pos].clone();
                *pos = (*pos + 1) % self.items.len();
                Ok(item)
            }
            "reset" => {
                arity(method, args, 0, 0)?;
                *pos = 0;
                Ok(Value::from(()))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("unknown method '{method}' on a cycler"),
            )),
        }
    }
}

/// Jinja2's `joiner(sep=', ')`: `''` on the first call, `sep` after.
#[derive(Debug)]
struct Joiner {
    sep: Value,
    used: Mutex<bool>,
}

impl Object for Joiner {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        arity("joiner", args, 0, 0)?;
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        if std::mem::replace(&mut *used, true) {
            Ok(self.sep.clone())
        } else {
            Ok(Value::from(""))
        }
    }
}

// ---------------------------------------------------------------------------
// Python str() and repr()
// ---------------------------------------------------------------------------

/// Python's `str()` of a template value: strings as they are, `None`,
/// `True`/`False`, Python float text, containers as their `repr()`, and
/// nothing for undefined (Jinja2's lenient `Undefined`).
pub fn py_str(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().to_owned(),
        ValueKind::Undefined => String::new(),
        _ => py_repr(value),
    }
}

/// Python's `repr()` of a template value.
pub fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    repr_into(value, &mut out, 0);
    out
}

/// Deeper than this is a list that contains itself: Python prints `[...]`.
const MAX_REPR_DEPTH: usize = 64;

fn repr_into(value: &Value, out: &mut String, depth: usize) {
    match value.kind() {
        ValueKind::Undefined => {}
        ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if value.is_true() { "True" } else { "False" }),
        ValueKind::Number => {
            if value.is_integer() {
                out.push_str(&value.to_string());
            } else {
                match f64::try_from(value.clone()) {
                    Ok(f) => out.push_str(&float_repr(f)),
                    Err(_) => out.push_str(&value.to_string()),
                }
            }
        }
        ValueKind::String => out.push_str(&str_repr(value.as_str().unwrap_or_default())),
        ValueKind::Seq
            if depth < MAX_REPR_DEPTH && value.downcast_object_ref::<PyDictView>().is_some() =>
        {
            let view = value.downcast_object_ref::<PyDictView>().expect("a view");
            out.push_str(view.kind.python_name());
            out.push('(');
            repr_into(&PyList::value(view.items()), out, depth + 1);
            out.push(')');
        }
        ValueKind::Seq | ValueKind::Iterable if depth < MAX_REPR_DEPTH => {
            let items: Vec<Value> = match value.try_iter() {
                Ok(iter) => iter.collect(),
                Err(_) => {
                    out.push_str(&value.to_string());
                    return;
                }
            };
            let tuple = value.is_tuple() || value.downcast_object_ref::<PyGroup>().is_some();
            out.push(if tuple { '(' } else { '[' });
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_into(item, out, depth + 1);
            }
            if tuple && items.len() == 1 {
                out.push(',');
            }
            out.push(if tuple { ')' } else { ']' });
        }
        ValueKind::Map if depth < MAX_REPR_DEPTH => {
            let environ = value
                .downcast_object_ref::<PyDict>()
                .is_some_and(|d| d.environ);
            if environ {
                out.push_str("environ(");
            }
            out.push('{');
            for (i, (k, v)) in map_items(value).iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                repr_into(k, out, depth + 1);
                out.push_str(": ");
                repr_into(v, out, depth + 1);
            }
            out.push('}');
            if environ {
                out.push(')');
            }
        }
        ValueKind::Seq | ValueKind::Iterable => out.push_str("[...]"),
        ValueKind::Map => out.push_str("{...}"),
        _ => out.push_str(&value.to_string()),
    }
}

/// A map's items in its iteration order.
fn map_items(value: &Value) -> Vec<(Value, Value)> {
    if let Some(dict) = value.downcast_object_ref::<PyDict>() {
        return dict.snapshot();
    }
    match value.try_iter() {
        Ok(keys) => keys
            .map(|k| {
                let v = value.get_item(&k).unwrap_or_default();
                (k, v)
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

// ---------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------

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

/// The error for a method Python's type does not have.
fn unknown_method(value: &Value, method: &str) -> Error {
    Error::new(
        ErrorKind::UnknownMethod,
        format!("unknown method '{method}' on {}", type_name(value)),
    )
}

/// The Python type of a value, with an article, for messages.
fn type_name(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::Undefined => "an undefined value",
        ValueKind::None => "None",
        ValueKind::Bool => "a bool",
        ValueKind::Number if value.is_integer() => "an integer",
        ValueKind::Number => "a float",
        ValueKind::String => "a string",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq if value.is_tuple() => "a tuple",
        ValueKind::Seq => "a list",
        ValueKind::Map => "a dict",
        ValueKind::Iterable => "an iterator",
        _ => "a value",
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

fn no_kwargs(args: &[Value], what: &str) -> Result<(), Error> {
    if args.last().is_some_and(Value::is_kwargs) {
        return Err(invalid(format!("{what} takes no keyword arguments")));
    }
    Ok(())
}

/// Splits `args` into positional arguments and keyword arguments.
fn split_kwargs(args: &[Value]) -> (&[Value], KwargList) {
    match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => {
            let kwargs = last
                .try_iter()
                .map(|keys| {
                    keys.map(|k| {
                        let v = last.get_item(&k).unwrap_or_default();
                        (py_str(&k), v)
                    })
                    .collect()
                })
                .unwrap_or_default();
            (rest, kwargs)
        }
        _ => (args, Vec::new()),
    }
}

/// A filter's keyword arguments, every one marked used.
fn kwargs_pairs(kwargs: &Kwargs) -> Result<KwargList, Error> {
    let keys: Vec<String> = kwargs.args().map(str::to_owned).collect();
    keys.into_iter()
        .map(|k| {
            let v = kwargs.get::<Value>(&k)?;
            Ok((k, v))
        })
        .collect()
}

/// Checks the positional argument count of `name` (Python's TypeError).
fn arity(name: &str, args: &[Value], min: usize, max: usize) -> Result<(), Error> {
    no_kwargs(args, name)?;
    if args.len() < min || args.len() > max {
        let expected = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(invalid(format!(
            "{name}() takes {expected} arguments ({} given)",
            args.len()
        )));
    }
    Ok(())
}

fn str_arg<'a>(name: &str, v: &'a Value) -> Result<&'a str, Error> {
    v.as_str().ok_or_else(|| {
        invalid(format!(
            "{name}() argument must be a string, not {}",
            type_name(v)
        ))
    })
}

fn int_arg(name: &str, v: &Value) -> Result<i64, Error> {
    if v.kind() == ValueKind::Bool {
        return Ok(i64::from(v.is_true()));
    }
    if v.is_integer() {
        if let Some(i) = v.as_i64() {
            return Ok(i);
        }
    }
    Err(invalid(format!(
        "{name}() argument must be an integer, not {}",
        type_name(v)
    )))
}

/// An optional integer argument (`None` means absent, as in Python).
fn opt_int(name: &str, v: Option<&Value>) -> Result<Option<i64>, Error> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => int_arg(name, v).map(Some),
    }
}

/// Python's `str.isspace()` characters.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python slice bounds `[start:end]` over `len` characters.
fn slice_bounds(len: usize, start: Option<i64>, end: Option<i64>) -> (usize, usize) {
    let norm = |i: i64| -> usize {
        if i < 0 {
            (len as i64).saturating_add(i).max(0) as usize
        } else {
            (i as usize).min(len)
        }
    };
    (start.map_or(0, norm), end.map_or(len, norm))
}

/// The substring of `s` between character indices (Python slice rules),
/// and its character offset; `None` when the slice is empty-and-inverted
/// (Python's `find` then returns -1 even for an empty needle).
fn char_slice(s: &str, start: Option<i64>, end: Option<i64>) -> Option<(&str, usize)> {
    let len = s.chars().count();
    let (a, b) = slice_bounds(len, start, end);
    if a > b {
        return None;
    }
    let byte = |i: usize| s.char_indices().nth(i).map_or(s.len(), |(b, _)| b);
    Some((&s[byte(a)..byte(b)], a))
}

fn string_method(s: &str, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
    let rv = match method {
        "format" => str_format(s, args),
        "split" | "rsplit" => split_method(s, method, args),
        "splitlines" => splitlines(s, args),
        "strip" | "lstrip" | "rstrip" => strip(s, method, args),
        "lower" => arity(method, args, 0, 0).map(|()| Value::from(s.to_lowercase())),
        "upper" => arity(method, args, 0, 0).map(|()| Value::from(s.to_uppercase())),
        "title" => arity(method, args, 0, 0).map(|()| Value::from(title(s))),
        "capitalize" => arity(method, args, 0, 0).map(|()| Value::from(capitalize(s))),
        "swapcase" => arity(method, args, 0, 0).map(|()| {
            Value::from(
                s.chars()
                    .flat_map(|c| -> Vec<char> {
                        if c.is_uppercase() {
                            c.to_lowercase().collect()
                        } else if c.is_lowercase() {
                            c.to_uppercase().collect()
                        } else {
                            vec![c]
                        }
                    })
                    .collect::<String>(),
            )
        }),
        "startswith" | "endswith" => affix(s, method, args),
        "replace" => replace(s, args),
        "join" => arity(method, args, 1, 1).and_then(|()| {
            let items: Vec<String> = args[0].try_iter()?.map(|v| py_str(&v)).collect();
            Ok(Value::from(items.join(s)))
        }),
        "count" | "find" | "rfind" | "index" | "rindex" => search(s, method, args),
        "partition" | "rpartition" => partition(s, method, args),
        "ljust" | "rjust" | "center" => justify(s, method, args),
        "zfill" => arity(method, args, 1, 1).and_then(|()| {
            let width = int_arg(method, &args[0])?;
            check_width(width)?;
            Ok(Value::from(zfill(s, width)))
        }),
        "removeprefix" => arity(method, args, 1, 1).and_then(|()| {
            let p = str_arg(method, &args[0])?;
            Ok(Value::from(s.strip_prefix(p).unwrap_or(s)))
        }),
        "removesuffix" => arity(method, args, 1, 1).and_then(|()| {
            let p = str_arg(method, &args[0])?;
            Ok(Value::from(s.strip_suffix(p).unwrap_or(s)))
        }),
        "format_map" => arity(method, args, 1, 1).and_then(|()| {
            let kwargs = Kwargs::from_iter(
                map_items(&args[0])
                    .into_iter()
                    .map(|(k, v)| (py_str(&k), v)),
            );
            str_format(s, &[Value::from(kwargs)])
        }),
        "expandtabs" => arity(method, args, 0, 1).and_then(|()| {
            let size = opt_int(method, args.first())?.unwrap_or(8);
            check_width(size)?;
            Ok(Value::from(expandtabs(s, size)))
        }),
        "istitle" => arity(method, args, 0, 0).map(|()| Value::from(istitle(s))),
        "isspace" => arity(method, args, 0, 0)
            .map(|()| Value::from(!s.is_empty() && s.chars().all(is_py_space))),
        _ => return None,
    };
    Some(rv)
}

/// `str.format`: minijinja's implementation of the format mini-language,
/// with arguments first made to print as Python's `str()` does.
fn str_format(s: &str, args: &[Value]) -> Result<Value, Error> {
    let pythonic = |v: &Value| -> Value {
        match v.kind() {
            ValueKind::None | ValueKind::Undefined => Value::from(py_str(v)),
            ValueKind::Number if !v.is_integer() => v.clone(),
            ValueKind::Seq | ValueKind::Map | ValueKind::Iterable
                if v.downcast_object_ref::<PyList>().is_none()
                    && v.downcast_object_ref::<PyDict>().is_none()
                    && v.downcast_object_ref::<PyDictView>().is_none() =>
            {
                Value::from_object(PyView(v.clone()))
            }
            _ => v.clone(),
        }
    };
    let (positional, mut kwargs) = split_kwargs(args);
    let mut s = std::borrow::Cow::Borrowed(s);
    if s.contains('!') {
        if let Some((rewritten, extra)) = apply_conversions(&s, positional, &kwargs)? {
            s = std::borrow::Cow::Owned(rewritten);
            kwargs.extend(extra);
        }
    }
    let s = &*s;
    let mut converted: Vec<Value> = positional.iter().map(pythonic).collect();
    if !kwargs.is_empty() {
        converted.push(Value::from(Kwargs::from_iter(
            kwargs.into_iter().map(|(k, v)| (k, pythonic(&v))),
        )));
    }
    mj_format(FormatStyle::StrFormat, s, &converted).map(Value::from)
}

/// Keyword arguments, in order.
type KwargList = Vec<(String, Value)>;

/// `str.format`'s conversions (`{!r}`, `{0!s:>5}`, `{x.y!a}`), which
/// minijinja's formatter lacks: each such field is resolved here, converted,
/// and handed over as a keyword argument; automatic field numbers become
/// explicit so the others still find their argument. `None` when there is
/// no conversion to do (or a field this does not understand: minijinja then
/// reports it).
fn apply_conversions(
    format: &str,
    positional: &[Value],
    kwargs: &[(String, Value)],
) -> Result<Option<(String, KwargList)>, Error> {
    let mut out = String::new();
    let mut extra = Vec::new();
    let mut auto = 0usize;
    let mut rest = format;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..2]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Ok(None);
        }
        let Some(close) = tail.find('}') else {
            return Ok(None);
        };
        let field = &tail[1..close];
        if field.contains('{') {
            return Ok(None);
        }
        rest = &tail[close + 1..];
        let (name_conv, spec) = match field.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (field, None),
        };
        let (name, conv) = match name_conv.split_once('!') {
            Some((a, b)) => (a, Some(b)),
            None => (name_conv, None),
        };
        let split = name.find(['.', '[']).unwrap_or(name.len());
        let (arg, path) = name.split_at(split);
        let arg = if arg.is_empty() {
            auto += 1;
            (auto - 1).to_string()
        } else {
            arg.to_owned()
        };
        let Some(conv) = conv else {
            out.push('{');
            out.push_str(&arg);
            out.push_str(path);
            if let Some(spec) = spec {
                out.push(':');
                out.push_str(spec);
            }
            out.push('}');
            continue;
        };
        let mut value = match arg.parse::<usize>() {
            Ok(i) => positional.get(i).cloned().ok_or_else(|| {
                invalid(format!(
                    "Replacement index {i} out of range for positional args tuple"
                ))
            })?,
            Err(_) => kwargs
                .iter()
                .find(|(k, _)| *k == arg)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| invalid(format!("KeyError: {}", str_repr(&arg))))?,
        };
        let mut p = path;
        while !p.is_empty() {
            if let Some(after) = p.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                value = value.get_attr(&after[..end])?;
                p = &after[end..];
            } else if let Some(after) = p.strip_prefix('[') {
                let Some(end) = after.find(']') else {
                    return Ok(None);
                };
                let key = &after[..end];
                value = match key.parse::<i64>() {
                    Ok(i) => value.get_item(&Value::from(i))?,
                    Err(_) => value.get_item(&Value::from(key))?,
                };
                p = &after[end + 1..];
            } else {
                return Ok(None);
            }
        }
        let text = match conv {
            "r" => py_repr(&value),
            "s" => py_str(&value),
            "a" => ascii(&py_repr(&value)),
            other => {
                return Err(invalid(format!("Unknown conversion specifier {other}")));
            }
        };
        let key = format!("__maestro_conv{}", extra.len());
        out.push('{');
        out.push_str(&key);
        if let Some(spec) = spec {
            out.push(':');
            out.push_str(spec);
        }
        out.push('}');
        extra.push((key, Value::from(text)));
    }
    out.push_str(rest);
    if extra.is_empty() {
        return Ok(None);
    }
    Ok(Some((out, extra)))
}

/// Python's `ascii()` of a repr: non-ASCII characters as escapes.
fn ascii(repr: &str) -> String {
    let mut out = String::with_capacity(repr.len());
    for c in repr.chars() {
        let n = c as u32;
        if n < 0x80 {
            out.push(c);
        } else if n < 0x100 {
            out.push_str(&format!("\\x{n:02x}"));
        } else if n < 0x10000 {
            out.push_str(&format!("\\u{n:04x}"));
        } else {
            out.push_str(&format!("\\U{n:08x}"));
        }
    }
    out
}

fn split_method(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    let (positional, kwargs) = split_kwargs(args);
    let mut sep = positional.first().cloned();
    let mut maxsplit = positional.get(1).cloned();
    if positional.len() > 2 {
        return Err(invalid(format!(
            "{method}() takes at most 2 arguments ({} given)",
            positional.len()
        )));
    }
    for (k, v) in kwargs {
        match k.as_str() {
            "sep" => sep = Some(v),
            "maxsplit" => maxsplit = Some(v),
            _ => {
                return Err(invalid(format!(
                    "{method}() got an unexpected keyword argument '{k}'"
                )));
            }
        }
    }
    let maxsplit = opt_int(method, maxsplit.as_ref())?.unwrap_or(-1);
    let sep = match &sep {
        Some(v) if !v.is_none() => Some(str_arg(method, v)?),
        _ => None,
    };
    let parts = if method == "split" {
        py_split(s, sep, maxsplit)?
    } else {
        py_rsplit(s, sep, maxsplit)?
    };
    Ok(PyList::value(parts.into_iter().map(Value::from).collect()))
}

/// Python's `str.split(sep, maxsplit)`.
fn py_split(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
    let limit = usize::try_from(maxsplit).ok();
    match sep {
        Some("") => Err(invalid("empty separator")),
        Some(sep) => Ok(match limit {
            Some(n) => s.splitn(n + 1, sep).map(str::to_owned).collect(),
            None => s.split(sep).map(str::to_owned).collect(),
        }),
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_start_matches(is_py_space);
            while !rest.is_empty() {
                if limit == Some(out.len()) {
                    out.push(rest.to_owned());
                    break;
                }
                match rest.find(is_py_space) {
                    Some(i) => {
                        out.push(rest[..i].to_owned());
                        rest = rest[i..].trim_start_matches(is_py_space);
                    }
                    None => {
                        out.push(rest.to_owned());
                        break;
                    }
                }
            }
            Ok(out)
        }
    }
}

/// Python's `str.rsplit(sep, maxsplit)`.
fn py_rsplit(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
    let limit = usize::try_from(maxsplit).ok();
    let mut out: Vec<String> = match sep {
        Some("") => return Err(invalid("empty separator")),
        Some(sep) => match limit {
            Some(n) => s.rsplitn(n + 1, sep).map(str::to_owned).collect(),
            None => s.rsplit(sep).map(str::to_owned).collect(),
        },
        None => {
            let mut out = Vec::new();
            let mut rest = s.trim_end_matches(is_py_space);
            while !rest.is_empty() {
                if limit == Some(out.len()) {
                    out.push(rest.to_owned());
                    break;
                }
                match rest.rfind(is_py_space) {
                    Some(i) => {
                        let c = rest[i..].chars().next().map_or(1, char::len_utf8);
                        out.push(rest[i + c..].to_owned());
                        rest = rest[..i].trim_end_matches(is_py_space);
                    }
                    None => {
                        out.push(rest.to_owned());
                        break;
                    }
                }
            }
            out
        }
    };
    out.reverse();
    Ok(out)
}

/// Python's `str.splitlines(keepends)`: every line boundary Python knows.
fn splitlines(s: &str, args: &[Value]) -> Result<Value, Error> {
    let (positional, kwargs) = split_kwargs(args);
    let mut keep = positional.first().is_some_and(Value::is_true);
    for (k, v) in kwargs {
        if k != "keepends" {
            return Err(invalid(format!(
                "splitlines() got an unexpected keyword argument '{k}'"
            )));
        }
        keep = v.is_true();
    }
    let is_break = |c: char| {
        matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        )
    };
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        match rest.find(is_break) {
            Some(i) => {
                let eol = if rest[i..].starts_with("\r\n") {
                    2
                } else {
                    rest[i..].chars().next().map_or(1, char::len_utf8)
                };
                let line = if keep { &rest[..i + eol] } else { &rest[..i] };
                out.push(Value::from(line));
                rest = &rest[i + eol..];
            }
            None => {
                out.push(Value::from(rest));
                break;
            }
        }
    }
    Ok(PyList::value(out))
}

fn strip(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    arity(method, args, 0, 1)?;
    let chars: Option<Vec<char>> = match args.first() {
        Some(v) if !v.is_none() => Some(str_arg(method, v)?.chars().collect()),
        _ => None,
    };
    let matches = |c: char| match &chars {
        Some(set) => set.contains(&c),
        None => is_py_space(c),
    };
    Ok(Value::from(match method {
        "lstrip" => s.trim_start_matches(matches),
        "rstrip" => s.trim_end_matches(matches),
        _ => s.trim_matches(matches),
    }))
}

/// Python's `str.title()`: a cased character after an uncased one is
/// uppercased, the others lowercased (`they're` → `They'Re`).
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = c.is_lowercase() || c.is_uppercase();
    }
    out
}

/// Python's `str.expandtabs(tabsize)`: tabs to the next column multiple.
fn expandtabs(s: &str, size: i64) -> String {
    let mut out = String::with_capacity(s.len());
    let mut column = 0usize;
    for c in s.chars() {
        match c {
            '\t' => {
                if size > 0 {
                    let size = size as usize;
                    let n = size - column % size;
                    out.extend(std::iter::repeat_n(' ', n));
                    column += n;
                }
            }
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            c => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

/// Python's `str.istitle()`.
fn istitle(s: &str) -> bool {
    let (mut cased, mut prev_cased) = (false, false);
    for c in s.chars() {
        if c.is_uppercase() {
            if prev_cased {
                return false;
            }
            prev_cased = true;
            cased = true;
        } else if c.is_lowercase() {
            if !prev_cased {
                return false;
            }
            prev_cased = true;
            cased = true;
        } else {
            prev_cased = false;
        }
    }
    cased
}

/// Python's `str.capitalize()`: first character upper, the rest lower.
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn affix(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    arity(method, args, 1, 3)?;
    let start = opt_int(method, args.get(1))?;
    let end = opt_int(method, args.get(2))?;
    let Some((s, _)) = char_slice(s, start, end) else {
        return Ok(Value::from(false));
    };
    let test = |p: &str| {
        if method == "startswith" {
            s.starts_with(p)
        } else {
            s.ends_with(p)
        }
    };
    let what = &args[0];
    if let Some(p) = what.as_str() {
        return Ok(Value::from(test(p)));
    }
    if what.is_tuple() {
        for p in what.try_iter()? {
            if test(str_arg(method, &p)?) {
                return Ok(Value::from(true));
            }
        }
        return Ok(Value::from(false));
    }
    Err(invalid(format!(
        "{method} first arg must be str or a tuple of str, not {}",
        type_name(what)
    )))
}

fn replace(s: &str, args: &[Value]) -> Result<Value, Error> {
    arity("replace", args, 2, 3)?;
    let old = str_arg("replace", &args[0])?;
    let new = str_arg("replace", &args[1])?;
    Ok(Value::from(match opt_int("replace", args.get(2))? {
        Some(n) if n >= 0 => s.replacen(old, new, n as usize),
        _ => s.replace(old, new),
    }))
}

fn search(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    arity(method, args, 1, 3)?;
    let needle = str_arg(method, &args[0])?;
    let start = opt_int(method, args.get(1))?;
    let end = opt_int(method, args.get(2))?;
    let Some((hay, offset)) = char_slice(s, start, end) else {
        return match method {
            "count" => Ok(Value::from(0)),
            "find" | "rfind" => Ok(Value::from(-1)),
            _ => Err(invalid("substring not found")),
        };
    };
    if method == "count" {
        let n = if needle.is_empty() {
            hay.chars().count() + 1
        } else {
            hay.matches(needle).count()
        };
        return Ok(Value::from(n));
    }
    let found = if method.starts_with('r') {
        hay.rfind(needle)
    } else {
        hay.find(needle)
    };
    match found {
        Some(b) => Ok(Value::from((hay[..b].chars().count() + offset) as i64)),
        None if method.ends_with("find") => Ok(Value::from(-1)),
        None => Err(invalid("substring not found")),
    }
}

fn partition(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    arity(method, args, 1, 1)?;
    let sep = str_arg(method, &args[0])?;
    if sep.is_empty() {
        return Err(invalid("empty separator"));
    }
    let found = if method == "partition" {
        s.find(sep)
    } else {
        s.rfind(sep)
    };
    let parts = match found {
        Some(i) => [&s[..i], sep, &s[i + sep.len()..]],
        None if method == "partition" => [s, "", ""],
        None => ["", "", s],
    };
    Ok(Value::from(minijinja::value::Tuple::from(
        parts.map(Value::from),
    )))
}

fn justify(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    arity(method, args, 1, 2)?;
    let width = int_arg(method, &args[0])?;
    let fill = match args.get(1) {
        Some(v) => {
            let f = str_arg(method, v)?;
            let mut chars = f.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(invalid(
                        "The fill character must be exactly one character long",
                    ));
                }
            }
        }
        None => ' ',
    };
    let len = s.chars().count() as i64;
    if width <= len {
        return Ok(Value::from(s));
    }
    check_width(width)?;
    let pad = (width - len) as usize;
    let (left, right) = match method {
        "ljust" => (0, pad),
        "rjust" => (pad, 0),
        _ => {
            // CPython's centering: the odd column goes left when the
            // width is odd.
            let left = pad / 2 + (pad & width as usize & 1);
            (left, pad - left)
        }
    };
    let fill = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
    Ok(Value::from(format!("{}{s}{}", fill(left), fill(right))))
}

/// Padding to more than this many characters is refused (Python would
/// try, and fail with `MemoryError` near the top of the range).
const MAX_WIDTH: i64 = 1 << 24;

fn check_width(width: i64) -> Result<(), Error> {
    if width > MAX_WIDTH {
        return Err(invalid(format!(
            "width {width} is too large (at most {MAX_WIDTH})"
        )));
    }
    Ok(())
}

/// Python's `str.zfill`: zeros after a leading sign.
fn zfill(s: &str, width: i64) -> String {
    let len = s.chars().count() as i64;
    if width <= len {
        return s.to_owned();
    }
    let zeros = "0".repeat((width - len) as usize);
    match s.chars().next() {
        Some(sign @ ('+' | '-')) => format!("{sign}{zeros}{}", &s[1..]),
        _ => format!("{zeros}{s}"),
    }
}

fn list_method(list: &PyList, method: &str, args: &[Value]) -> Result<Value, Error> {
    let none = Value::from(());
    match method {
        "append" => {
            arity(method, args, 1, 1)?;
            list.lock().push(args[0].clone());
            Ok(none)
        }
        "extend" => {
            arity(method, args, 1, 1)?;
            // Collected before the lock: the argument may be this list.
            let items: Vec<Value> = args[0].try_iter()?.collect();
            list.lock().extend(items);
            Ok(none)
        }
        "insert" => {
            arity(method, args, 2, 2)?;
            let at = int_arg(method, &args[0])?;
            let mut items = list.lock();
            let (at, _) = slice_bounds(items.len(), Some(at), None);
            items.insert(at, args[1].clone());
            Ok(none)
        }
        "pop" => {
            arity(method, args, 0, 1)?;
            let at = opt_int(method, args.first())?.unwrap_or(-1);
            let mut items = list.lock();
            let len = items.len() as i64;
            if items.is_empty() {
                return Err(invalid("pop from empty list"));
            }
            let i = if at < 0 { len.saturating_add(at) } else { at };
            if i < 0 || i >= len {
                return Err(invalid("pop index out of range"));
            }
            Ok(items.remove(i as usize))
        }
        "remove" => {
            arity(method, args, 1, 1)?;
            let items = list.snapshot();
            match items.iter().position(|v| v == &args[0]) {
                Some(i) => {
                    list.lock().remove(i);
                    Ok(none)
                }
                None => Err(invalid("list.remove(x): x not in list")),
            }
        }
        "clear" => {
            arity(method, args, 0, 0)?;
            list.lock().clear();
            Ok(none)
        }
        "reverse" => {
            arity(method, args, 0, 0)?;
            list.lock().reverse();
            Ok(none)
        }
        "sort" => {
            let (positional, kwargs) = split_kwargs(args);
            if !positional.is_empty() {
                return Err(invalid("sort() takes no positional arguments"));
            }
            let mut reverse = false;
            for (k, v) in kwargs {
                if k != "reverse" {
                    return Err(invalid(format!(
                        "sort() got an unexpected keyword argument '{k}'"
                    )));
                }
                reverse = v.is_true();
            }
            let mut items = list.snapshot();
            items.sort();
            if reverse {
                items.reverse();
            }
            *list.lock() = items;
            Ok(none)
        }
        "copy" => {
            arity(method, args, 0, 0)?;
            Ok(PyList::value(list.snapshot()))
        }
        "count" | "index" => seq_search(&list.snapshot(), method, args, "list"),
        _ => Err(unknown_method(&PyList::value(Vec::new()), method)),
    }
}

/// `count` and `index` of lists and tuples.
fn seq_search(items: &[Value], method: &str, args: &[Value], what: &str) -> Result<Value, Error> {
    if method == "count" {
        arity(method, args, 1, 1)?;
        return Ok(Value::from(items.iter().filter(|v| *v == &args[0]).count()));
    }
    arity(method, args, 1, 3)?;
    let start = opt_int(method, args.get(1))?;
    let end = opt_int(method, args.get(2))?;
    let (a, b) = slice_bounds(items.len(), start, end);
    (a..b)
        .find(|&i| items[i] == args[0])
        .map(Value::from)
        .ok_or_else(|| invalid(format!("{what}.index(x): x not in {what}")))
}

fn dict_method(dict: &PyDict, method: &str, args: &[Value]) -> Result<Value, Error> {
    let none = Value::from(());
    match method {
        "update" => {
            let (positional, kwargs) = split_kwargs(args);
            if positional.len() > 1 {
                return Err(invalid(format!(
                    "update expected at most 1 argument, got {}",
                    positional.len()
                )));
            }
            // Read before writing: the argument may be this dict.
            let mut pairs = Vec::new();
            if let Some(other) = positional.first() {
                pairs = pairs_of(other)?;
            }
            for (k, v) in pairs {
                dict.insert(k, v);
            }
            for (k, v) in kwargs {
                dict.insert(Value::from(k), v);
            }
            Ok(none)
        }
        "pop" => {
            arity(method, args, 1, 2)?;
            match dict.remove(&args[0]) {
                Some(v) => Ok(v),
                None => args
                    .get(1)
                    .cloned()
                    .ok_or_else(|| invalid(format!("KeyError: {}", py_repr(&args[0])))),
            }
        }
        "setdefault" => {
            arity(method, args, 1, 2)?;
            if let Some(v) = dict.get(&args[0]) {
                return Ok(v);
            }
            let v = args.get(1).cloned().unwrap_or_default_none();
            dict.insert(args[0].clone(), v.clone());
            Ok(v)
        }
        "clear" => {
            arity(method, args, 0, 0)?;
            dict.lock().clear();
            Ok(none)
        }
        "copy" => {
            arity(method, args, 0, 0)?;
            Ok(Value::from_object(PyDict::with(dict.snapshot())))
        }
        "get" => {
            arity(method, args, 1, 2)?;
            Ok(dict
                .get(&args[0])
                .unwrap_or_else(|| args.get(1).cloned().unwrap_or_default_none()))
        }
        _ => Err(unknown_method(
            &Value::from_object(PyDict::default()),
            method,
        )),
    }
}

/// The (key, value) pairs of a mapping, or of an iterable of pairs
/// (`dict.update`'s argument).
fn pairs_of(v: &Value) -> Result<Vec<(Value, Value)>, Error> {
    if v.kind() == ValueKind::Map {
        return Ok(map_items(v));
    }
    let mut out = Vec::new();
    for item in v.try_iter()? {
        let pair: Vec<Value> = item.try_iter()?.collect();
        match <[Value; 2]>::try_from(pair) {
            Ok([k, v]) => out.push((k, v)),
            Err(pair) => {
                return Err(invalid(format!(
                    "dictionary update sequence element has length {}; 2 is required",
                    pair.len()
                )));
            }
        }
    }
    Ok(out)
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

trait DefaultNone {
    fn unwrap_or_default_none(self) -> Value;
}

impl DefaultNone for Option<Value> {
    /// Python's default: `None` (minijinja's `Value::default()` is undefined).
    fn unwrap_or_default_none(self) -> Value {
        self.unwrap_or_else(|| Value::from(()))
    }
}

// ---------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------

/// Jinja2's `join(value, d='', attribute=None)`, items as Python `str()`.
fn filter_join(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let (positional, kwargs) = (&args[..], kwargs_pairs(&kwargs)?);
    let mut sep = positional.first().cloned();
    let mut attribute = positional.get(1).cloned();
    for (k, v) in kwargs {
        match k.as_str() {
            "d" => sep = Some(v),
            "attribute" => attribute = Some(v),
            _ => {
                return Err(invalid(format!(
                    "join got an unexpected keyword argument '{k}'"
                )));
            }
        }
    }
    let sep = sep.map(|s| py_str(&s)).unwrap_or_default();
    if value.is_undefined() {
        return Ok(Value::from(""));
    }
    let mut parts = Vec::new();
    for item in value.try_iter()? {
        let item = match &attribute {
            Some(attr) if !attr.is_none() => attribute_of(&item, attr)?,
            _ => item,
        };
        parts.push(py_str(&item));
    }
    Ok(Value::from(parts.join(&sep)))
}

/// Jinja2's attribute lookup of filters: dotted path, integer parts index.
fn attribute_of(item: &Value, attr: &Value) -> Result<Value, Error> {
    if attr.is_integer() {
        return item.get_item(attr);
    }
    let mut v = item.clone();
    for part in py_str(attr).split('.') {
        v = match part.parse::<i64>() {
            Ok(i) => v.get_item(&Value::from(i))?,
            Err(_) => v.get_attr(part)?,
        };
    }
    Ok(v)
}

/// Jinja2's `truncate(s, length=255, killwords=False, end='...', leeway=5)`.
fn filter_truncate(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let mut params: [Option<Value>; 4] = Default::default();
    const NAMES: [&str; 4] = ["length", "killwords", "end", "leeway"];
    if args.len() > 4 {
        return Err(invalid("truncate() takes at most 4 arguments"));
    }
    for (slot, v) in params.iter_mut().zip(args.iter()) {
        *slot = Some(v.clone());
    }
    for (k, v) in kwargs_pairs(&kwargs)? {
        match NAMES.iter().position(|n| *n == k) {
            Some(i) => params[i] = Some(v),
            None => {
                return Err(invalid(format!(
                    "truncate() got an unexpected keyword argument '{k}'"
                )));
            }
        }
    }
    let [length, killwords, end, leeway] = params;
    let length = opt_int("truncate", length.as_ref())?.unwrap_or(255);
    let killwords = killwords.is_some_and(|v| v.is_true());
    let end = end.map_or_else(|| "...".to_owned(), |v| py_str(&v));
    let leeway = opt_int("truncate", leeway.as_ref())?.unwrap_or(5);
    let end_len = end.chars().count() as i64;
    if length < end_len {
        return Err(invalid(format!(
            "expected length >= {end_len}, got {length}"
        )));
    }
    if leeway < 0 {
        return Err(invalid(format!("expected leeway >= 0, got {leeway}")));
    }
    let s = py_str(&value);
    let chars: Vec<char> = s.chars().collect();
    if chars.len() as i64 <= length.saturating_add(leeway) {
        return Ok(Value::from(s));
    }
    let head: String = chars[..(length - end_len) as usize].iter().collect();
    let head = if killwords {
        head
    } else {
        match head.rsplit_once(' ') {
            Some((before, _)) => before.to_owned(),
            None => head,
        }
    };
    Ok(Value::from(head + &end))
}

/// Python's `urllib.parse.quote` over UTF-8, `safe` kept as is.
fn url_quote(s: &str, for_qs: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || (!for_qs && b == b'/');
        if keep {
            out.push(b as char);
        } else if for_qs && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Jinja2's `urlencode`: a string (`/` kept), or a dict / pairs as a query.
fn filter_urlencode(value: Value) -> Result<Value, Error> {
    if value.kind() == ValueKind::String {
        return Ok(Value::from(url_quote(&py_str(&value), false)));
    }
    let pairs = match value.kind() {
        ValueKind::Map => map_items(&value),
        ValueKind::Seq | ValueKind::Iterable => pairs_of(&value)?,
        _ => return Ok(Value::from(url_quote(&py_str(&value), false))),
    };
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                url_quote(&py_str(k), true),
                url_quote(&py_str(v), true)
            )
        })
        .collect();
    Ok(Value::from(parts.join("&")))
}

/// markupsafe's `escape`.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Jinja2's `xmlattr(d, autospace=True)`: `key="value"` pairs, None and
/// undefined values left out.
fn filter_xmlattr(value: Value, autospace: Option<bool>) -> Result<Value, Error> {
    let mut parts = Vec::new();
    for (k, v) in map_items(&value) {
        if v.is_none() || v.is_undefined() {
            continue;
        }
        let key = py_str(&k);
        if key
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '/' | '>' | '='))
        {
            return Err(invalid(format!(
                "Invalid character in attribute name: {}",
                py_repr(&k)
            )));
        }
        parts.push(format!(
            "{}=\"{}\"",
            html_escape(&key),
            html_escape(&py_str(&v))
        ));
    }
    let mut rv = parts.join(" ");
    if autospace.unwrap_or(true) && !rv.is_empty() {
        rv.insert(0, ' ');
    }
    Ok(Value::from_safe_string(rv))
}

/// Jinja2's `random`: any one item (of a string: one character).
fn filter_random(value: Value) -> Result<Value, Error> {
    use std::hash::{BuildHasher, Hasher};
    let items: Vec<Value> = match value.as_str() {
        Some(s) => s.chars().map(Value::from).collect(),
        None => value.try_iter()?.collect(),
    };
    if items.is_empty() {
        return Err(invalid("Cannot choose from an empty sequence"));
    }
    // std's per-process random hash keys are the only randomness needed.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_usize(items.len());
    let pick = (hasher.finish() % items.len() as u64) as usize;
    Ok(items[pick].clone())
}

/// Jinja2's `groupby`: a list of `(grouper, list)` tuples.
fn filter_groupby(value: Value, attribute: Option<&str>, kwargs: Kwargs) -> Result<Value, Error> {
    let groups = minijinja::filters::groupby(value, attribute, kwargs)?;
    let mut out = Vec::new();
    for group in groups.try_iter()? {
        out.push(Value::from_object(PyGroup {
            grouper: group.get_item(&Value::from(0))?,
            list: to_pylist(group.get_item(&Value::from(1))?)?,
        }));
    }
    Ok(PyList::value(out))
}

/// A sequence as a [`PyList`] (a copy of its items).
fn to_pylist(value: Value) -> Result<Value, Error> {
    Ok(PyList::value(value.try_iter()?.collect()))
}

/// Jinja2's `list`: a Python list (one the template can change).
fn filter_list(value: Value) -> Result<Value, Error> {
    if value.is_undefined() {
        return Ok(PyList::value(Vec::new()));
    }
    if let Some(s) = value.as_str() {
        return Ok(PyList::value(s.chars().map(Value::from).collect()));
    }
    Ok(PyList::value(value.try_iter()?.collect()))
}

/// Jinja2's `tojson`: `json.dumps(value, sort_keys=True)` made safe for
/// HTML (`<`, `>`, `&`, `'` as `\u` escapes), with an optional `indent`.
fn filter_tojson(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let (positional, kwargs) = (&args[..], kwargs_pairs(&kwargs)?);
    let mut indent = positional.first().cloned();
    for (k, v) in kwargs {
        if k != "indent" {
            return Err(invalid(format!(
                "tojson got an unexpected keyword argument '{k}'"
            )));
        }
        indent = Some(v);
    }
    let indent = match opt_int("tojson", indent.as_ref())? {
        Some(n) if n > 1024 => return Err(invalid(format!("tojson: indent {n} is too large"))),
        other => other.map(|n| n.max(0) as usize),
    };
    let mut out = String::new();
    json_into(&value, indent, 0, &mut out)?;
    let mut safe = String::with_capacity(out.len());
    for c in out.chars() {
        match c {
            '<' => safe.push_str("\\u003c"),
            '>' => safe.push_str("\\u003e"),
            '&' => safe.push_str("\\u0026"),
            '\'' => safe.push_str("\\u0027"),
            c => safe.push(c),
        }
    }
    Ok(Value::from_safe_string(safe))
}

/// Python's `json.dumps` (ensure_ascii, default separators, sorted keys).
fn json_into(
    v: &Value,
    indent: Option<usize>,
    depth: usize,
    out: &mut String,
) -> Result<(), Error> {
    if depth > MAX_REPR_DEPTH {
        return Err(invalid("tojson: circular reference detected"));
    }
    let newline = |out: &mut String, level: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * level));
        }
    };
    let item_sep = if indent.is_some() { "," } else { ", " };
    match v.kind() {
        ValueKind::None | ValueKind::Undefined => out.push_str("null"),
        ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
        ValueKind::Number => {
            if v.is_integer() {
                out.push_str(&v.to_string());
            } else {
                let f = f64::try_from(v.clone()).unwrap_or(f64::NAN);
                out.push_str(&match float_repr(f).as_str() {
                    "nan" => "NaN".to_owned(),
                    "inf" => "Infinity".to_owned(),
                    "-inf" => "-Infinity".to_owned(),
                    other => other.to_owned(),
                });
            }
        }
        ValueKind::String => json_str(v.as_str().unwrap_or_default(), out),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<Value> = v.try_iter()?.collect();
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, depth + 1);
                json_into(item, indent, depth + 1, out)?;
            }
            if !items.is_empty() {
                newline(out, depth);
            }
            out.push(']');
        }
        ValueKind::Map => {
            let mut items = map_items(v);
            items.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (k, val)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, depth + 1);
                let key = match k.kind() {
                    ValueKind::String => py_str(k),
                    ValueKind::None => "null".to_owned(),
                    ValueKind::Bool => (if k.is_true() { "true" } else { "false" }).to_owned(),
                    ValueKind::Number => py_repr(k),
                    _ => {
                        return Err(invalid(format!(
                            "tojson: keys must be str, int, float, bool or None, not {}",
                            type_name(k)
                        )));
                    }
                };
                json_str(&key, out);
                out.push_str(": ");
                json_into(val, indent, depth + 1, out)?;
            }
            if !items.is_empty() {
                newline(out, depth);
            }
            out.push('}');
        }
        _ => {
            return Err(invalid(format!(
                "tojson: {} is not JSON serializable",
                type_name(v)
            )));
        }
    }
    Ok(())
}

/// A JSON string as Python's `json.dumps` writes it (ASCII only).
fn json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
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

    const TABLE: &str = include_str!("../../../tests/differential/jinja_methods.json");

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
