//! Python's mutable containers (list, dict, dict views) and the other
//! objects Jinja2 templates use (`groupby` groups, `cycler`, `joiner`).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::{DynObject, Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use super::{args::*, repr::*};

/// A Python list: a sequence that `append`, `extend`, `pop`... change in
/// place, as Jinja2 templates expect of `{% set xs = [] %}`.
#[derive(Debug, Default)]
pub struct PyList(Mutex<Vec<Value>>);

impl PyList {
    /// A template value holding a new list of `items`.
    pub fn value(items: Vec<Value>) -> Value {
        Value::from_object(PyList(Mutex::new(items)))
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Vec<Value>> {
        // A panic elsewhere cannot leave a Vec half-changed: keep going.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the items; no lock is held while the caller compares,
    /// prints or iterates them (an item may be this very list).
    pub(super) fn snapshot(&self) -> Vec<Value> {
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
    pub(super) environ: bool,
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
    pub(super) fn with(entries: Vec<(Value, Value)>) -> PyDict {
        PyDict {
            entries: Mutex::new(entries),
            environ: false,
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Vec<(Value, Value)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn snapshot(&self) -> Vec<(Value, Value)> {
        self.lock().clone()
    }

    pub(super) fn position(entries: &[(Value, Value)], key: &Value) -> Option<usize> {
        entries.iter().position(|(k, _)| k == key)
    }

    /// Sets `key` (in place when present, at the end otherwise).
    pub(super) fn insert(&self, key: Value, value: Value) {
        let mut entries = self.lock();
        match Self::position(&entries, &key) {
            Some(i) => entries[i].1 = value,
            None => entries.push((key, value)),
        }
    }

    pub(super) fn get(&self, key: &Value) -> Option<Value> {
        let entries = self.lock();
        Self::position(&entries, key).map(|i| entries[i].1.clone())
    }

    pub(super) fn remove(&self, key: &Value) -> Option<Value> {
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
pub(super) enum ViewKind {
    Keys,
    Values,
    Items,
}

impl ViewKind {
    pub(super) fn of(method: &str) -> Option<ViewKind> {
        match method {
            "keys" => Some(ViewKind::Keys),
            "values" => Some(ViewKind::Values),
            "items" => Some(ViewKind::Items),
            _ => None,
        }
    }

    pub(super) fn python_name(self) -> &'static str {
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
pub(super) struct PyDictView {
    pub(super) dict: Value,
    pub(super) kind: ViewKind,
}

impl PyDictView {
    pub(super) fn value(dict: Value, kind: ViewKind) -> Value {
        Value::from_object(PyDictView { dict, kind })
    }

    pub(super) fn items(&self) -> Vec<Value> {
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
pub(super) struct PyView(pub(super) Value);

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
pub(super) struct PyGroup {
    pub(super) grouper: Value,
    pub(super) list: Value,
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
pub(super) struct Cycler {
    pub(super) items: Vec<Value>,
    pub(super) pos: Mutex<usize>,
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
pub(super) struct Joiner {
    pub(super) sep: Value,
    pub(super) used: Mutex<bool>,
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

pub(super) fn list_method(list: &PyList, method: &str, args: &[Value]) -> Result<Value, Error> {
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
pub(super) fn seq_search(
    items: &[Value],
    method: &str,
    args: &[Value],
    what: &str,
) -> Result<Value, Error> {
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

pub(super) fn dict_method(dict: &PyDict, method: &str, args: &[Value]) -> Result<Value, Error> {
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
pub(super) fn pairs_of(v: &Value) -> Result<Vec<(Value, Value)>, Error> {
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

pub(super) trait DefaultNone {
    fn unwrap_or_default_none(self) -> Value;
}

impl DefaultNone for Option<Value> {
    /// Python's default: `None` (minijinja's `Value::default()` is undefined).
    fn unwrap_or_default_none(self) -> Value {
        self.unwrap_or_else(|| Value::from(()))
    }
}
