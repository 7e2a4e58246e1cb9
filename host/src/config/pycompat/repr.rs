//! Python's `str()`, `repr()` and `json.dumps` of template values.

use minijinja::Error;
use minijinja::value::{Value, ValueKind};

use super::super::yaml::pyvalue::{float_repr, str_repr};
use super::{args::*, containers::*};

/// How each container prints, for its `render` (kept here, beside Python's
/// printing rules, so that the types need not know them).
macro_rules! repr_text {
    ($($t:ty),*) => {$(
        impl $t {
            /// Python's `repr()` of this value.
            pub(super) fn repr_text(self: &std::sync::Arc<Self>) -> String {
                py_repr(&Value::from_dyn_object(self.clone()))
            }
        }
    )*};
}
repr_text!(PyList, PyDict, PyDictView, PyGroup);

impl PyView {
    /// Python's `str()` of the viewed value.
    pub(super) fn str_text(&self) -> String {
        py_str(&self.0)
    }
}

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
pub(super) const MAX_REPR_DEPTH: usize = 64;

pub(super) fn repr_into(value: &Value, out: &mut String, depth: usize) {
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

/// Python's `json.dumps` (ensure_ascii, default separators, sorted keys).
pub(super) fn json_into(
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
pub fn json_str(s: &str, out: &mut String) {
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
