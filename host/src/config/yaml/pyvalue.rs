//! Python values as PyYAML 6 constructs them from YAML 1.1 scalars, and
//! how Python's `str()` and `repr()` print them.
//!
//! Containers observe MaestroNG's environment values through docker-py's
//! `'{k}={v}'.format(...)`, i.e. Python's `str()` of whatever PyYAML built:
//! `yes` becomes `True`, `0755` becomes `493`, `1.50` becomes `1.5`. The
//! rules below are PyYAML's resolver regexes and constructors, written out
//! by hand (see `yaml/resolver.py` and `yaml/constructor.py`).

/// A scalar as Python holds it after `yaml.load`.
#[derive(Debug, Clone, PartialEq)]
pub enum PyScalar {
    /// `None` (`~`, `null`, empty).
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int`, as canonical decimal text (Python ints are unbounded).
    Int(String),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(String),
    /// A `datetime.date`.
    Date {
        /// Year.
        year: u32,
        /// Month 1-12.
        month: u32,
        /// Day of month.
        day: u32,
    },
    /// A `datetime.datetime`, with its `str()` and `repr()` precomputed.
    DateTime {
        /// What `str()` prints.
        text: String,
        /// What `repr()` prints.
        repr: String,
    },
    /// The merge key `<<`.
    Merge,
}

impl PyScalar {
    /// Python's type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            PyScalar::None => "NoneType",
            PyScalar::Bool(_) => "bool",
            PyScalar::Int(_) => "int",
            PyScalar::Float(_) => "float",
            PyScalar::Str(_) => "str",
            PyScalar::Date { .. } => "date",
            PyScalar::DateTime { .. } => "datetime",
            PyScalar::Merge => "merge key",
        }
    }

    /// Python's `str()`.
    pub fn py_str(&self) -> String {
        match self {
            PyScalar::None => "None".into(),
            PyScalar::Bool(true) => "True".into(),
            PyScalar::Bool(false) => "False".into(),
            PyScalar::Int(digits) => digits.clone(),
            PyScalar::Float(f) => float_repr(*f),
            PyScalar::Str(s) => s.clone(),
            PyScalar::Date { year, month, day } => format!("{year:04}-{month:02}-{day:02}"),
            PyScalar::DateTime { text, .. } => text.clone(),
            PyScalar::Merge => "<<".into(),
        }
    }

    /// Python's `repr()`.
    pub fn py_repr(&self) -> String {
        match self {
            PyScalar::Str(s) => str_repr(s),
            PyScalar::Date { year, month, day } => {
                format!("datetime.date({year}, {month}, {day})")
            }
            PyScalar::DateTime { repr, .. } => repr.clone(),
            PyScalar::Merge => "'<<'".into(),
            other => other.py_str(),
        }
    }

    /// The identity of this value as a Python dict key: `1`, `1.0` and
    /// `True` are equal keys in Python.
    pub fn key_identity(&self) -> String {
        match self {
            PyScalar::Bool(b) => format!("i{}", u8::from(*b)),
            PyScalar::Int(d) => format!("i{d}"),
            PyScalar::Float(f) if f.fract() == 0.0 && f.is_finite() && f.abs() < 1e18 => {
                #[allow(clippy::cast_possible_truncation)]
                let i = *f as i64;
                format!("i{i}")
            }
            PyScalar::Float(f) => format!("f{}", float_repr(*f)),
            other => format!("{}:{}", other.type_name(), other.py_str()),
        }
    }

    /// The value as an `i64`, when it is a Python `int` that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PyScalar::Int(d) => d.parse().ok(),
            _ => None,
        }
    }
}

/// Python's `repr()` of a `str`: single quotes unless the text contains a
/// single quote and no double quote; escapes for backslash, the quote,
/// `\t\n\r` and non-printable characters.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
        }
    }
    out.push(quote);
    out
}

/// Approximates Python's `str.isprintable()`: controls, separators other
/// than the ASCII space, and a few invisible formatting characters are not.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}'))
}

/// Python's `repr(float)` (also its `str()`): the shortest text that reads
/// back to the same float, fixed notation for exponents in -4..16,
/// scientific otherwise (`1e+16`, `1e-05`).
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e6".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let body = if exp < 0 {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        } else if exp + 1 >= n {
            format!("{}{}.0", digits, "0".repeat((exp + 1 - n) as usize))
        } else {
            let (a, b) = digits.split_at((exp + 1) as usize);
            format!("{a}.{b}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

// ---------------------------------------------------------------------------
// Implicit resolution of plain scalars (PyYAML's YAML 1.1 resolver).
// ---------------------------------------------------------------------------

/// Why a scalar has no value (`2001-02-30`, `!!int x`): the message PyYAML's
/// constructor would give, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScalarError(pub String);

impl From<String> for ScalarError {
    fn from(message: String) -> Self {
        ScalarError(message)
    }
}

/// Resolves a plain scalar as PyYAML's resolver and SafeConstructor do.
pub fn resolve_plain(text: &str) -> Result<PyScalar, ScalarError> {
    resolve_plain_text(text).map_err(ScalarError)
}

fn resolve_plain_text(text: &str) -> Result<PyScalar, String> {
    let first = text.chars().next();
    // Resolvers are tried in registration order among those registered for
    // the first character: bool, float, int, merge, null, timestamp, value.
    if matches!(
        first,
        Some('y' | 'Y' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'o' | 'O')
    ) {
        if let Some(b) = match_bool(text) {
            return Ok(PyScalar::Bool(b));
        }
    }
    if matches!(first, Some('-' | '+' | '0'..='9' | '.')) && match_float(text) {
        return construct_float(text);
    }
    if matches!(first, Some('-' | '+' | '0'..='9')) && match_int(text) {
        return construct_int(text);
    }
    if text == "<<" {
        return Ok(PyScalar::Merge);
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(PyScalar::None);
    }
    if matches!(first, Some('0'..='9')) && match_timestamp(text).is_some() {
        return construct_timestamp(text);
    }
    if text == "=" {
        return Err(
            "could not determine a constructor for the tag 'tag:yaml.org,2002:value'".into(),
        );
    }
    Ok(PyScalar::Str(text.to_owned()))
}

/// Constructs an explicitly tagged scalar (`!!str`, `!!int`, ...).
pub fn construct_tagged(kind: &str, text: &str) -> Result<PyScalar, ScalarError> {
    construct_tagged_text(kind, text).map_err(ScalarError)
}

fn construct_tagged_text(kind: &str, text: &str) -> Result<PyScalar, String> {
    match kind {
        "str" => Ok(PyScalar::Str(text.to_owned())),
        "int" => construct_int(text),
        "float" => construct_float(text),
        "bool" => match_bool(text)
            .map(PyScalar::Bool)
            .ok_or_else(|| format!("invalid boolean {text:?}")),
        "null" => Ok(PyScalar::None),
        "timestamp" => construct_timestamp(text),
        other => Err(format!(
            "could not determine a constructor for the tag 'tag:yaml.org,2002:{other}'"
        )),
    }
}

fn match_bool(text: &str) -> Option<bool> {
    match text {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// A tiny cursor for the hand-written regexes.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Self {
        Cur {
            b: s.as_bytes(),
            i: 0,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_if(&mut self, f: impl Fn(u8) -> bool) -> bool {
        match self.peek() {
            Some(c) if f(c) => {
                self.i += 1;
                true
            }
            _ => false,
        }
    }
    fn eat_while(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.i;
        while self.eat_if(&f) {}
        self.i - start
    }
    fn sign(&mut self) {
        let _ = self.eat(b'-') || self.eat(b'+');
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

fn digit_(c: u8) -> bool {
    c.is_ascii_digit() || c == b'_'
}

/// `(?::[0-5]?[0-9])+`
fn sexagesimal_tail(c: &mut Cur) -> bool {
    let mut any = false;
    loop {
        let save = c.i;
        if !c.eat(b':') {
            break;
        }
        let a = c.eat_if(|x| x.is_ascii_digit());
        if !a {
            c.i = save;
            break;
        }
        // `[0-5]?[0-9]`: one or two digits, a two-digit one starting 0-5.
        let first = c.b[c.i - 1];
        let save2 = c.i;
        if c.eat_if(|x| x.is_ascii_digit()) && first > b'5' {
            c.i = save2;
        }
        any = true;
    }
    any
}

fn optional_exponent(c: &mut Cur) {
    let save = c.i;
    if c.eat_if(|x| x == b'e' || x == b'E')
        && c.eat_if(|x| x == b'-' || x == b'+')
        && c.eat_while(|x| x.is_ascii_digit()) > 0
    {
        return;
    }
    c.i = save;
}

fn match_float(text: &str) -> bool {
    let alternatives: [fn(&mut Cur) -> bool; 5] = [
        |c| {
            c.sign();
            c.eat_if(|x| x.is_ascii_digit()) && {
                c.eat_while(digit_);
                c.eat(b'.') && {
                    c.eat_while(digit_);
                    optional_exponent(c);
                    true
                }
            }
        },
        |c| {
            c.eat(b'.') && c.eat_if(|x| x.is_ascii_digit()) && {
                c.eat_while(digit_);
                optional_exponent(c);
                true
            }
        },
        |c| {
            c.sign();
            c.eat_if(|x| x.is_ascii_digit()) && {
                c.eat_while(digit_);
                sexagesimal_tail(c) && c.eat(b'.') && {
                    c.eat_while(digit_);
                    true
                }
            }
        },
        |c| {
            c.sign();
            c.eat(b'.') && {
                let rest = std::str::from_utf8(&c.b[c.i..]).unwrap_or("");
                if matches!(rest, "inf" | "Inf" | "INF") {
                    c.i = c.b.len();
                    true
                } else {
                    false
                }
            }
        },
        |c| {
            c.eat(b'.') && {
                let rest = std::str::from_utf8(&c.b[c.i..]).unwrap_or("");
                if matches!(rest, "nan" | "NaN" | "NAN") {
                    c.i = c.b.len();
                    true
                } else {
                    false
                }
            }
        },
    ];
    alternatives.iter().any(|alt| {
        let mut c = Cur::new(text);
        alt(&mut c) && c.done()
    })
}

fn match_int(text: &str) -> bool {
    let alternatives: [fn(&mut Cur) -> bool; 5] = [
        |c| {
            c.sign();
            c.eat(b'0') && c.eat(b'b') && c.eat_while(|x| x == b'0' || x == b'1' || x == b'_') > 0
        },
        |c| {
            c.sign();
            c.eat(b'0') && c.eat_while(|x| (b'0'..=b'7').contains(&x) || x == b'_') > 0
        },
        |c| {
            c.sign();
            if c.eat(b'0') {
                true
            } else {
                c.eat_if(|x| (b'1'..=b'9').contains(&x)) && {
                    c.eat_while(digit_);
                    true
                }
            }
        },
        |c| {
            c.sign();
            c.eat(b'0') && c.eat(b'x') && c.eat_while(|x| x.is_ascii_hexdigit() || x == b'_') > 0
        },
        |c| {
            c.sign();
            c.eat_if(|x| (b'1'..=b'9').contains(&x)) && {
                c.eat_while(digit_);
                sexagesimal_tail(c)
            }
        },
    ];
    alternatives.iter().any(|alt| {
        let mut c = Cur::new(text);
        alt(&mut c) && c.done()
    })
}

/// Parsed parts of a timestamp.
struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    time: Option<(u32, u32, u32, u32, Option<i32>)>,
}

fn digits_n(c: &mut Cur, min: usize, max: usize) -> Option<u32> {
    let start = c.i;
    while c.i - start < max && c.eat_if(|x| x.is_ascii_digit()) {}
    if c.i - start < min {
        return None;
    }
    std::str::from_utf8(&c.b[start..c.i]).ok()?.parse().ok()
}

fn match_timestamp(text: &str) -> Option<Timestamp> {
    let mut c = Cur::new(text);
    let year = digits_n(&mut c, 4, 4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month_start = c.i;
    let month = digits_n(&mut c, 1, 2)?;
    let month_len = c.i - month_start;
    if !c.eat(b'-') {
        return None;
    }
    let day_start = c.i;
    let day = digits_n(&mut c, 1, 2)?;
    let day_len = c.i - day_start;
    if c.done() {
        // The date-only form needs two-digit month and day.
        return (month_len == 2 && day_len == 2).then_some(Timestamp {
            year,
            month,
            day,
            time: None,
        });
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat_while(|x| x == b' ' || x == b'\t') > 0) {
        return None;
    }
    let hour = digits_n(&mut c, 1, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let minute = digits_n(&mut c, 2, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let second = digits_n(&mut c, 2, 2)?;
    let mut micro = 0;
    if c.eat(b'.') {
        let start = c.i;
        c.eat_while(|x| x.is_ascii_digit());
        let frac = std::str::from_utf8(&c.b[start..c.i]).ok()?;
        let mut frac: String = frac.chars().take(6).collect();
        if !frac.is_empty() {
            while frac.len() < 6 {
                frac.push('0');
            }
            micro = frac.parse().ok()?;
        }
    }
    let save = c.i;
    c.eat_while(|x| x == b' ' || x == b'\t');
    let mut tz = None;
    if c.eat(b'Z') {
        tz = Some(0);
    } else if let Some(sign) = c.peek().filter(|x| *x == b'-' || *x == b'+') {
        c.i += 1;
        let h = digits_n(&mut c, 1, 2)? as i32;
        let m = if c.eat(b':') {
            digits_n(&mut c, 2, 2)? as i32
        } else {
            0
        };
        let minutes = h * 60 + m;
        tz = Some(if sign == b'-' { -minutes } else { minutes });
    } else {
        c.i = save;
    }
    c.done().then_some(Timestamp {
        year,
        month,
        day,
        time: Some((hour, minute, second, micro, tz)),
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn construct_timestamp(text: &str) -> Result<PyScalar, String> {
    let ts = match_timestamp(text).ok_or_else(|| format!("invalid timestamp {text:?}"))?;
    if ts.year == 0
        || ts.month == 0
        || ts.month > 12
        || ts.day == 0
        || ts.day > days_in_month(ts.year, ts.month)
    {
        return Err(format!(
            "invalid date {text:?}: day is out of range for month"
        ));
    }
    let Some((hour, minute, second, micro, tz)) = ts.time else {
        return Ok(PyScalar::Date {
            year: ts.year,
            month: ts.month,
            day: ts.day,
        });
    };
    if hour > 23 || minute > 59 || second > 59 {
        return Err(format!("invalid time {text:?}"));
    }
    let mut s = format!(
        "{:04}-{:02}-{:02} {hour:02}:{minute:02}:{second:02}",
        ts.year, ts.month, ts.day
    );
    if micro != 0 {
        s.push_str(&format!(".{micro:06}"));
    }
    let mut fields = format!("{}, {}, {}, {hour}, {minute}", ts.year, ts.month, ts.day);
    if second != 0 || micro != 0 {
        fields.push_str(&format!(", {second}"));
    }
    if micro != 0 {
        fields.push_str(&format!(", {micro}"));
    }
    if let Some(offset) = tz {
        let sign = if offset < 0 { '-' } else { '+' };
        s.push_str(&format!(
            "{sign}{:02}:{:02}",
            offset.abs() / 60,
            offset.abs() % 60
        ));
        if offset == 0 {
            fields.push_str(", tzinfo=datetime.timezone.utc");
        } else {
            let secs = i64::from(offset) * 60;
            let delta = if secs < 0 {
                format!("days=-1, seconds={}", 86400 + secs)
            } else {
                format!("seconds={secs}")
            };
            fields.push_str(&format!(
                ", tzinfo=datetime.timezone(datetime.timedelta({delta}))"
            ));
        }
    }
    Ok(PyScalar::DateTime {
        text: s,
        repr: format!("datetime.datetime({fields})"),
    })
}

/// PyYAML's `construct_yaml_int`.
fn construct_int(text: &str) -> Result<PyScalar, String> {
    let bad = || format!("invalid literal for int(): {text:?}");
    let value: String = text.chars().filter(|c| *c != '_').collect();
    let (negative, value) = match value.as_bytes().first() {
        Some(b'-') => (true, &value[1..]),
        Some(b'+') => (false, &value[1..]),
        _ => (false, value.as_str()),
    };
    if value.is_empty() {
        return Err(bad());
    }
    let magnitude: String = if value == "0" {
        "0".into()
    } else if let Some(bin) = value.strip_prefix("0b") {
        radix(bin, 2).ok_or_else(bad)?
    } else if let Some(hex) = value.strip_prefix("0x") {
        radix(hex, 16).ok_or_else(bad)?
    } else if value.starts_with('0') {
        radix(value, 8).ok_or_else(bad)?
    } else if value.contains(':') {
        let mut total: i128 = 0;
        for part in value.split(':') {
            let d: i128 = part.parse().map_err(|_| bad())?;
            total = total
                .checked_mul(60)
                .and_then(|t| t.checked_add(d))
                .ok_or_else(bad)?;
        }
        total.to_string()
    } else {
        if !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let trimmed = value.trim_start_matches('0');
        if trimmed.is_empty() {
            "0".into()
        } else {
            trimmed.to_owned()
        }
    };
    Ok(PyScalar::Int(if negative && magnitude != "0" {
        format!("-{magnitude}")
    } else {
        magnitude
    }))
}

fn radix(digits: &str, base: u32) -> Option<String> {
    if digits.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    for c in digits.chars() {
        let d = c.to_digit(base)?;
        total = total
            .checked_mul(u128::from(base))?
            .checked_add(u128::from(d))?;
    }
    Some(total.to_string())
}

/// PyYAML's `construct_yaml_float`.
fn construct_float(text: &str) -> Result<PyScalar, String> {
    let bad = || format!("could not convert string to float: {text:?}");
    let value: String = text
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_lowercase();
    let (sign, value) = match value.as_bytes().first() {
        Some(b'-') => (-1.0, &value[1..]),
        Some(b'+') => (1.0, &value[1..]),
        _ => (1.0, value.as_str()),
    };
    let f = if value == ".inf" {
        f64::INFINITY
    } else if value == ".nan" {
        return Ok(PyScalar::Float(f64::NAN));
    } else if value.contains(':') {
        let mut total = 0.0;
        for part in value.split(':') {
            let d: f64 = part.parse().map_err(|_| bad())?;
            total = total * 60.0 + d;
        }
        total
    } else {
        value.parse::<f64>().map_err(|_| bad())?
    };
    Ok(PyScalar::Float(sign * f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        resolve_plain(text).unwrap().py_str()
    }

    #[test]
    fn yaml_1_1_plain_scalars_print_like_python() {
        let table = [
            ("yes", "True"),
            ("Off", "False"),
            ("Y", "Y"),
            ("0755", "493"),
            ("08", "08"),
            ("0_", "0"),
            ("22:22", "1342"),
            ("8080:80", "8080:80"),
            ("-1:30", "-90"),
            ("1:30.5", "90.5"),
            ("1.50", "1.5"),
            ("1.", "1.0"),
            (".5", "0.5"),
            ("-.5", "-.5"),
            ("1e3", "1e3"),
            ("1.0e3", "1.0e3"),
            ("1.0e+3", "1000.0"),
            ("0.1e-10", "1e-11"),
            ("12345678901234567890.5", "1.2345678901234567e+19"),
            ("1.0e+400", "inf"),
            ("-.inf", "-inf"),
            (".NaN", "nan"),
            ("0x1F", "31"),
            ("0b101", "5"),
            ("0o17", "0o17"),
            ("+1_000", "1000"),
            ("1__0", "10"),
            ("_1", "_1"),
            ("-0", "0"),
            ("~", "None"),
            ("", "None"),
            ("2001-12-14", "2001-12-14"),
            ("2001-1-2", "2001-1-2"),
            ("2001-1-2 1:02:03", "2001-01-02 01:02:03"),
            (
                "2001-12-14t21:59:43.10-05:00",
                "2001-12-14 21:59:43.100000-05:00",
            ),
            ("2001-12-14 21:59:43.1Z", "2001-12-14 21:59:43.100000+00:00"),
            ("1.2.3", "1.2.3"),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
        ];
        for (input, expected) in table {
            assert_eq!(s(input), expected, "{input:?}");
        }
    }

    #[test]
    fn reprs_match_python() {
        assert_eq!(str_repr("a'b"), "\"a'b\"");
        assert_eq!(str_repr("a'b\""), "'a\\'b\"'");
        assert_eq!(str_repr("x\ny\u{1}"), "'x\\ny\\x01'");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(123.456), "123.456");
        assert_eq!(float_repr(1e-5), "1e-05");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(
            resolve_plain("2001-12-14").unwrap().py_repr(),
            "datetime.date(2001, 12, 14)"
        );
    }

    #[test]
    fn invalid_dates_are_errors() {
        assert!(resolve_plain("2001-13-45").is_err());
        assert!(resolve_plain("2001-02-29").is_err());
        assert!(resolve_plain("2000-02-29").is_ok());
    }
}
