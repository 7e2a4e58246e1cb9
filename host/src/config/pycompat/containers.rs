//! Python's mutable containers (list, dict, dict views) and the other
//! objects Jinja2 templates use (`groupby` groups, `cycler`, `joiner`).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use minijinja::value::{DynObject, Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

use super::args::*;

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
        self.python_method(method, args)
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repr_text())
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
        self.python_method(method, args)
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repr_text())
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
        f.write_str(&self.repr_text())
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
        f.write_str(&self.str_text())
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
        f.write_str(&self.repr_text())
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

/// A map's items in its iteration order.
pub(super) fn map_items(value: &Value) -> Vec<(Value, Value)> {
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
