//! Argument checking and errors shared by the Python methods.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind};

/// The error for a method Python's type does not have.
pub(super) fn unknown_method(value: &Value, method: &str) -> Error {
    Error::new(
        ErrorKind::UnknownMethod,
        format!("unknown method '{method}' on {}", type_name(value)),
    )
}

/// The Python type of a value, with an article, for messages.
pub(super) fn type_name(value: &Value) -> &'static str {
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

pub(super) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

pub(super) fn no_kwargs(args: &[Value], what: &str) -> Result<(), Error> {
    if args.last().is_some_and(Value::is_kwargs) {
        return Err(invalid(format!("{what} takes no keyword arguments")));
    }
    Ok(())
}

/// Splits `args` into positional arguments and keyword arguments.
pub(super) fn split_kwargs(args: &[Value]) -> (&[Value], KwargList) {
    match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => {
            let kwargs = last
                .try_iter()
                .map(|keys| {
                    keys.map(|k| {
                        let v = last.get_item(&k).unwrap_or_default();
                        (k.as_str().map_or_else(|| k.to_string(), str::to_owned), v)
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
pub(super) fn kwargs_pairs(kwargs: &Kwargs) -> Result<KwargList, Error> {
    let keys: Vec<String> = kwargs.args().map(str::to_owned).collect();
    keys.into_iter()
        .map(|k| {
            let v = kwargs.get::<Value>(&k)?;
            Ok((k, v))
        })
        .collect()
}

/// Checks the positional argument count of `name` (Python's TypeError).
pub(super) fn arity(name: &str, args: &[Value], min: usize, max: usize) -> Result<(), Error> {
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

pub(super) fn str_arg<'a>(name: &str, v: &'a Value) -> Result<&'a str, Error> {
    v.as_str().ok_or_else(|| {
        invalid(format!(
            "{name}() argument must be a string, not {}",
            type_name(v)
        ))
    })
}

pub(super) fn int_arg(name: &str, v: &Value) -> Result<i64, Error> {
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
pub(super) fn opt_int(name: &str, v: Option<&Value>) -> Result<Option<i64>, Error> {
    match v {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => int_arg(name, v).map(Some),
    }
}

/// Python slice bounds `[start:end]` over `len` characters.
pub(super) fn slice_bounds(len: usize, start: Option<i64>, end: Option<i64>) -> (usize, usize) {
    let norm = |i: i64| -> usize {
        if i < 0 {
            (len as i64).saturating_add(i).max(0) as usize
        } else {
            (i as usize).min(len)
        }
    };
    (start.map_or(0, norm), end.map_or(len, norm))
}

/// Keyword arguments, in order.
pub(super) type KwargList = Vec<(String, Value)>;

/// Padding to more than this many characters is refused (Python would
/// try, and fail with `MemoryError` near the top of the range).
pub(super) const MAX_WIDTH: i64 = 1 << 24;

pub(super) fn check_width(width: i64) -> Result<(), Error> {
    if width > MAX_WIDTH {
        return Err(invalid(format!(
            "width {width} is too large (at most {MAX_WIDTH})"
        )));
    }
    Ok(())
}
