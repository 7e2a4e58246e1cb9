//! Jinja2's filters where minijinja's differ or are missing.

use minijinja::Error;
use minijinja::value::{Kwargs, Rest, Value, ValueKind};

use super::{args::*, containers::*, methods::*, repr::*};

/// Jinja2's `join(value, d='', attribute=None)`, items as Python `str()`.
pub(super) fn filter_join(value: Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
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
pub(super) fn attribute_of(item: &Value, attr: &Value) -> Result<Value, Error> {
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
pub(super) fn filter_truncate(
    value: Value,
    args: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
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
pub(super) fn url_quote(s: &str, for_qs: bool) -> String {
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
pub(super) fn filter_urlencode(value: Value) -> Result<Value, Error> {
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
pub(super) fn html_escape(s: &str) -> String {
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
pub(super) fn filter_xmlattr(value: Value, autospace: Option<bool>) -> Result<Value, Error> {
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
pub(super) fn filter_random(value: Value) -> Result<Value, Error> {
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
pub(super) fn filter_groupby(
    value: Value,
    attribute: Option<&str>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
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
pub(super) fn to_pylist(value: Value) -> Result<Value, Error> {
    Ok(PyList::value(value.try_iter()?.collect()))
}

/// Jinja2's `list`: a Python list (one the template can change).
pub(super) fn filter_list(value: Value) -> Result<Value, Error> {
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
pub(super) fn filter_tojson(
    value: Value,
    args: Rest<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
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
