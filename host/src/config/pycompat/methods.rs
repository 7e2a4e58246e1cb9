//! The methods of Python's lists and dicts (`append`, `update`, `get`...),
//! and the helpers they share with the filters.

use minijinja::Error;
use minijinja::value::{Value, ValueKind};

use super::{args::*, containers::*, repr::*};

impl PyList {
    /// `list.METHOD(args)`.
    pub(super) fn python_method(&self, method: &str, args: &[Value]) -> Result<Value, Error> {
        list_method(self, method, args)
    }
}

impl PyDict {
    /// `dict.METHOD(args)`.
    pub(super) fn python_method(&self, method: &str, args: &[Value]) -> Result<Value, Error> {
        dict_method(self, method, args)
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
