//! Python's `str` methods, `str.format` included.

use minijinja::Error;
use minijinja::formatting::{FormatStyle, format as mj_format};
use minijinja::value::{Kwargs, Value, ValueKind};

use super::super::yaml::pyvalue::str_repr;
use super::{args::*, containers::*, repr::*};

/// Python's `str.isspace()` characters.
pub(super) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// The substring of `s` between character indices (Python slice rules),
/// and its character offset; `None` when the slice is empty-and-inverted
/// (Python's `find` then returns -1 even for an empty needle).
pub(super) fn char_slice(s: &str, start: Option<i64>, end: Option<i64>) -> Option<(&str, usize)> {
    let len = s.chars().count();
    let (a, b) = slice_bounds(len, start, end);
    if a > b {
        return None;
    }
    let byte = |i: usize| s.char_indices().nth(i).map_or(s.len(), |(b, _)| b);
    Some((&s[byte(a)..byte(b)], a))
}

pub(super) fn string_method(s: &str, method: &str, args: &[Value]) -> Option<Result<Value, Error>> {
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
pub(super) fn str_format(s: &str, args: &[Value]) -> Result<Value, Error> {
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

/// `str.format`'s conversions (`{!r}`, `{0!s:>5}`, `{x.y!a}`), which
/// minijinja's formatter lacks: each such field is resolved here, converted,
/// and handed over as a keyword argument; automatic field numbers become
/// explicit so the others still find their argument. `None` when there is
/// no conversion to do (or a field this does not understand: minijinja then
/// reports it).
pub(super) fn apply_conversions(
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
        let Some(value) = field_value(&arg, path, positional, kwargs)? else {
            return Ok(None);
        };
        let text = convert(&value, conv)?;
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

/// The value a `str.format` field names: argument `arg` (a position or a
/// keyword), then `.attr` and `[key]` steps along `path`. `None` for a path
/// this does not understand.
fn field_value(
    arg: &str,
    path: &str,
    positional: &[Value],
    kwargs: &[(String, Value)],
) -> Result<Option<Value>, Error> {
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
            .ok_or_else(|| invalid(format!("KeyError: {}", str_repr(arg))))?,
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
    Ok(Some(value))
}

/// A `str.format` conversion: `!r`, `!s`, `!a`.
fn convert(value: &Value, conv: &str) -> Result<String, Error> {
    match conv {
        "r" => Ok(py_repr(value)),
        "s" => Ok(py_str(value)),
        "a" => Ok(ascii(&py_repr(value))),
        other => Err(invalid(format!("Unknown conversion specifier {other}"))),
    }
}

/// Python's `ascii()` of a repr: non-ASCII characters as escapes.
pub(super) fn ascii(repr: &str) -> String {
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

pub(super) fn split_method(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
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
pub(super) fn py_split(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
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
pub(super) fn py_rsplit(s: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
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
pub(super) fn splitlines(s: &str, args: &[Value]) -> Result<Value, Error> {
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

pub(super) fn strip(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
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
pub(super) fn title(s: &str) -> String {
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
pub(super) fn expandtabs(s: &str, size: i64) -> String {
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
pub(super) fn istitle(s: &str) -> bool {
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
pub(super) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

pub(super) fn affix(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
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

pub(super) fn replace(s: &str, args: &[Value]) -> Result<Value, Error> {
    arity("replace", args, 2, 3)?;
    let old = str_arg("replace", &args[0])?;
    let new = str_arg("replace", &args[1])?;
    Ok(Value::from(match opt_int("replace", args.get(2))? {
        Some(n) if n >= 0 => s.replacen(old, new, n as usize),
        _ => s.replace(old, new),
    }))
}

pub(super) fn search(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
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

pub(super) fn partition(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
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

pub(super) fn justify(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
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

/// Python's `str.zfill`: zeros after a leading sign.
pub(super) fn zfill(s: &str, width: i64) -> String {
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
