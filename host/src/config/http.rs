//! The `http` lifecycle check's `match_regex` and `requests_options`, read when the file
//! loads (host/COMPAT.md § Services and instances, `http` checks).
//!
//! MaestroNG 0.8.3 compiles `match_regex` with Python's `re` (DOTALL) in the check's
//! constructor, at load, and passes `requests_options` untouched to
//! `requests.request(method, url, **options)` at every attempt, swallowing whatever it
//! raises. A key `requests` does not know, or a value it cannot use, therefore makes the
//! check fail every attempt until `max_wait`: those are configuration errors here. Keys
//! `requests` accepts but maestro does not implement get a warning and are ignored.

use crate::spec::Secret;

use super::error::ConfigError;
use super::model::http::*;
use super::read::{Ctx, Entries, join};
use super::yaml::{Node, PyScalar, Value, node_str};

/// `requests.request` keywords maestro does not implement: warned about and ignored.
pub(super) const IGNORED: &[&str] = &[
    "data", "json", "cookies", "files", "proxies", "hooks", "stream",
];
/// `requests.request` keywords maestro implements.
pub(super) const KNOWN: &[&str] = &[
    "auth",
    "headers",
    "cert",
    "verify",
    "timeout",
    "allow_redirects",
    "params",
];

/// Reads `match_regex`: a string compiled as a Python pattern; an error at the node.
pub(super) fn match_regex(
    ctx: &Ctx,
    node: Option<&Node>,
    path: &str,
) -> Result<Option<MatchRegex>, ConfigError> {
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return Ok(None);
    };
    let pattern = ctx.string(node, path)?;
    // 0.8.3 tests `if match_regex:`: an empty pattern means none.
    if pattern.is_empty() {
        return Ok(None);
    }
    MatchRegex::new(&pattern)
        .map(Some)
        .map_err(|e| ctx.err(Some(node), path, format!("bad regex {pattern:?}: {e}")))
}

/// Reads `scheme`: `http` (default) or `https`, in any case; anything else makes
/// `requests` refuse every attempt in 0.8.3, so it is an error here.
pub(super) fn scheme(ctx: &Ctx, node: Option<&Node>, path: &str) -> Result<String, ConfigError> {
    let scheme = ctx.opt_string(node, path)?.unwrap_or_else(|| "http".into());
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => Ok(scheme),
        _ => Err(ctx.err(
            node,
            path,
            format!("invalid scheme {scheme:?} (expected http or https)"),
        )),
    }
}

/// Reads `method` (default `get`): any HTTP token, sent upper-cased as `requests` does.
pub(super) fn method(ctx: &Ctx, node: Option<&Node>, path: &str) -> Result<String, ConfigError> {
    let method = ctx.opt_string(node, path)?.unwrap_or_else(|| "get".into());
    match hyper::Method::from_bytes(method.to_ascii_uppercase().as_bytes()) {
        Ok(_) if !method.is_empty() => Ok(method),
        _ => Err(ctx.err(node, path, format!("invalid HTTP method {method:?}"))),
    }
}

/// Reads `requests_options` (a mapping; null = none).
pub(super) fn requests_options(
    ctx: &mut Ctx,
    node: Option<&Node>,
    path: &str,
) -> Result<HttpOptions, ConfigError> {
    let mut out = HttpOptions::default();
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return Ok(out);
    };
    let entries: &Entries = ctx.map(node, path)?;
    for (k, v) in entries {
        let key = node_str(k);
        let kpath = join(path, &key);
        if IGNORED.contains(&key.as_str()) {
            ctx.warn(
                k,
                &kpath,
                format!("requests option {key:?} is not supported by maestro (ignored)"),
            );
            continue;
        }
        if !KNOWN.contains(&key.as_str()) {
            return Err(ctx.err(
                Some(k),
                &kpath,
                format!(
                    "unknown requests option {key:?} (MaestroNG 0.8.3 passes it to requests, which refuses it at every attempt); maestro supports {}",
                    KNOWN.join(", ")
                ),
            ));
        }
        if v.is_null() && key != "allow_redirects" {
            continue; // requests' None: the default.
        }
        match key.as_str() {
            "auth" => out.auth = Some(auth(ctx, v, &kpath)?),
            "headers" => out.headers = headers(ctx, v, &kpath)?,
            "cert" => out.cert = Some(cert(ctx, v, &kpath)?),
            "verify" => out.verify = verify(ctx, v, &kpath)?,
            "timeout" => out.timeout = Some(timeout(ctx, v, &kpath)?),
            "params" => out.params = params(ctx, v, &kpath)?,
            _ => out.allow_redirects = ctx.flag(Some(v), &kpath),
        }
    }
    Ok(out)
}

/// A list of exactly two scalars.
fn pair<'n>(
    ctx: &Ctx,
    node: &'n Node,
    path: &str,
    what: &str,
) -> Result<[&'n Node; 2], ConfigError> {
    match &node.value {
        Value::Seq(items) if items.len() == 2 => Ok([&items[0], &items[1]]),
        _ => Err(ctx.err(
            Some(node),
            path,
            format!("expected {what}, found {}", describe(node)),
        )),
    }
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::Seq(items) => format!("a list of {}", items.len()),
        _ => node.type_name().to_owned(),
    }
}

fn auth(ctx: &Ctx, node: &Node, path: &str) -> Result<BasicAuth, ConfigError> {
    let [user, password] = pair(ctx, node, path, "[user, password]")?;
    let username = ctx.string(user, &format!("{path}[0]"))?;
    // Never echo the password: only its type may appear in an error.
    let password = match &password.value {
        Value::Scalar(s) if s.value != PyScalar::None => Secret::new(s.value.py_str()),
        _ => {
            return Err(ctx.err(
                Some(password),
                &format!("{path}[1]"),
                format!("expected a string, found {}", password.type_name()),
            ));
        }
    };
    Ok(BasicAuth { username, password })
}

fn headers(ctx: &Ctx, node: &Node, path: &str) -> Result<Vec<HttpField>, ConfigError> {
    let entries = ctx.map(node, path)?;
    let mut out = Vec::new();
    for (k, v) in entries {
        let name = node_str(k);
        let hpath = join(path, &name);
        if !matches!(k.scalar().map(|s| &s.value), Some(PyScalar::Str(_)))
            || hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err()
        {
            return Err(ctx.err(Some(k), &hpath, format!("invalid header name {name:?}")));
        }
        let value = match &v.value {
            _ if v.is_null() => None,
            Value::Scalar(s) => match &s.value {
                PyScalar::Str(text) => {
                    if hyper::header::HeaderValue::from_str(text).is_err()
                        || text.starts_with([' ', '\t'])
                    {
                        return Err(ctx.err(
                            Some(v),
                            &hpath,
                            "invalid header value (control characters or leading whitespace)",
                        ));
                    }
                    Some(Secret::new(text.clone()))
                }
                other => {
                    return Err(ctx.err(
                        Some(v),
                        &hpath,
                        format!(
                            "expected a string header value, found {} (quote it: requests accepts only strings)",
                            other.type_name()
                        ),
                    ));
                }
            },
            _ => {
                return Err(ctx.err(
                    Some(v),
                    &hpath,
                    format!("expected a string header value, found {}", v.type_name()),
                ));
            }
        };
        out.retain(|h: &HttpField| !h.name.eq_ignore_ascii_case(&name));
        out.push(HttpField { name, value });
    }
    Ok(out)
}

/// `params`: a string, or a mapping of scalars or lists of scalars (`None` items are
/// left out, as `requests` leaves them out).
fn params(ctx: &Ctx, node: &Node, path: &str) -> Result<Option<HttpParams>, ConfigError> {
    if let Value::Scalar(s) = &node.value {
        return Ok(match &s.value {
            PyScalar::Str(t) if t.is_empty() => None,
            PyScalar::Str(t) => Some(HttpParams::Text(t.clone())),
            other => {
                return Err(ctx.err(
                    Some(node),
                    path,
                    format!(
                        "expected a mapping or a string, found {}",
                        other.type_name()
                    ),
                ));
            }
        });
    }
    let mut pairs = Vec::new();
    for (k, v) in ctx.map(node, path)? {
        let name = node_str(k);
        let ppath = join(path, &name);
        let items: Vec<&Node> = match &v.value {
            Value::Seq(items) => items.iter().collect(),
            Value::Scalar(_) => vec![v],
            Value::Map(_) => {
                return Err(ctx.err(
                    Some(v),
                    &ppath,
                    "expected a value or a list of values, found dict",
                ));
            }
        };
        for item in items {
            match &item.value {
                Value::Scalar(s) if s.value == PyScalar::None => {}
                Value::Scalar(s) => pairs.push(HttpField {
                    name: name.clone(),
                    value: Some(Secret::new(s.value.py_str())),
                }),
                _ => {
                    return Err(ctx.err(
                        Some(item),
                        &ppath,
                        format!("expected a value, found {}", item.type_name()),
                    ));
                }
            }
        }
    }
    Ok((!pairs.is_empty()).then_some(HttpParams::Pairs(pairs)))
}

fn cert(ctx: &Ctx, node: &Node, path: &str) -> Result<ClientCert, ConfigError> {
    if let Value::Scalar(_) = node.value {
        return Ok(ClientCert {
            cert: ctx.string(node, path)?.into(),
            key: None,
        });
    }
    let [c, k] = pair(ctx, node, path, "a path or [cert, key]")?;
    Ok(ClientCert {
        cert: ctx.string(c, &format!("{path}[0]"))?.into(),
        key: Some(ctx.string(k, &format!("{path}[1]"))?.into()),
    })
}

fn verify(ctx: &Ctx, node: &Node, path: &str) -> Result<Verify, ConfigError> {
    match node.scalar().map(|s| &s.value) {
        Some(PyScalar::Bool(true)) => Ok(Verify::Default),
        Some(PyScalar::Bool(false)) => Ok(Verify::Off),
        Some(PyScalar::Str(p)) if p.is_empty() => Ok(Verify::Off),
        Some(PyScalar::Str(p)) => Ok(Verify::Bundle(p.into())),
        _ => Err(ctx.err(
            Some(node),
            path,
            format!(
                "expected true, false or a CA bundle path, found {}",
                node.type_name()
            ),
        )),
    }
}

fn seconds(ctx: &Ctx, node: &Node, path: &str) -> Result<Option<f64>, ConfigError> {
    let value = match node.scalar().map(|s| &s.value) {
        Some(PyScalar::None) => return Ok(None),
        Some(PyScalar::Float(f)) => Some(*f),
        Some(PyScalar::Int(_)) => ctx.int(node, path).ok().map(|n| n as f64),
        _ => None,
    };
    match value {
        Some(s) if s.is_finite() && s > 0.0 => Ok(Some(s)),
        Some(_) => Err(ctx.err(
            Some(node),
            path,
            "a timeout must be a number of seconds greater than 0",
        )),
        None => Err(ctx.err(
            Some(node),
            path,
            format!("expected a number of seconds, found {}", node.type_name()),
        )),
    }
}

fn timeout(ctx: &Ctx, node: &Node, path: &str) -> Result<HttpTimeout, ConfigError> {
    if let Value::Seq(_) = node.value {
        let [c, r] = pair(ctx, node, path, "seconds or [connect, read]")?;
        return Ok(HttpTimeout {
            connect: seconds(ctx, c, &format!("{path}[0]"))?,
            read: seconds(ctx, r, &format!("{path}[1]"))?,
        });
    }
    let s = seconds(ctx, node, path)?;
    Ok(HttpTimeout {
        connect: s,
        read: s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finds(pattern: &str, text: &str) -> bool {
        MatchRegex::new(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .search(text)
            .unwrap()
    }

    /// Results of Python 3.11's `bool(re.compile(p, re.DOTALL).search(t))` for each case
    /// (checked with the testbed's Python: see the table's last column).
    #[test]
    fn python_semantics() {
        let cases: &[(&str, &str, bool)] = &[
            ("ready(?=\\s*$)", "all ready\n", true),
            ("ready(?!ness)", "readiness ready", true),
            ("ready(?!ness)", "readiness", false),
            ("(?<=status: )ok", "status: ok", true),
            ("(?<!not )ok", "not ok", false),
            ("(?P<w>\\w+) (?P=w)", "up up", true),
            ("(\\w+) \\1", "up down", false),
            ("a.b", "a\nb", true),
            ("ok$", "ok\n", true),
            ("ok$", "ok\nmore", false),
            ("(?m)ok$", "ok\nmore", true),
            ("ok\\Z", "ok\n", false),
            ("ok\\Z", "ok", true),
            ("x{,2}y", "xxy", true),
            ("{a}", "{a}", true),
            ("a{1,2", "a{1,2", true),
            ("[[]", "[", true),
            ("[a&&b]", "&", true),
            ("[]x]", "]", true),
            ("^ready", "not ready", false),
            ("\\bup\\b", "it is up.", true),
            ("(?i)READY", "ready", true),
            ("a\\012b", "a\nb", true),
            ("a\\0b", "a\0b", true),
            ("(a)\\1", "aa", true),
            ("(?x) r e a d y  # spaced", "ready", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(finds(p, t), *want, "{p:?} on {t:?}");
        }
    }

    #[test]
    fn bad_patterns_are_errors() {
        for p in ["(unclosed", "a)", "*x", "[z-a]", "(?P<n>a)(?P=m)"] {
            assert!(MatchRegex::new(p).is_err(), "{p}");
        }
    }

    #[test]
    fn secrets_are_not_shown() {
        let auth = BasicAuth {
            username: "u".into(),
            password: Secret::new("hunter2"),
        };
        let opts = HttpOptions {
            auth: Some(auth),
            headers: vec![
                HttpField {
                    name: "X-Api-Token".into(),
                    value: Some(Secret::new("tok3n")),
                },
                HttpField {
                    name: "X-Ready".into(),
                    value: Some(Secret::new("yes")),
                },
            ],
            ..HttpOptions::default()
        };
        let shown = format!("{opts:?} {}", serde_json::to_string(&opts).unwrap());
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok3n"),
            "{shown}"
        );
        assert!(
            shown.contains("yes") && shown.contains("<redacted>"),
            "{shown}"
        );
    }

    /// Loads a file whose one container has `check` as its `running` check.
    fn load(check: &str) -> Result<crate::config::Loaded, String> {
        let text = format!(
            "name: t\nships: {{s1: {{ip: 127.0.0.1}}}}\nservices:\n  web:\n    image: img\n    instances:\n      w1:\n        ship: s1\n        ports: {{http: 8080}}\n        lifecycle:\n          running:\n            - {check}\n"
        );
        let source = crate::config::Source::Text {
            text,
            name: "t.yaml".into(),
            base_dir: std::env::temp_dir(),
        };
        crate::config::load(&source, crate::config::Options { strict: false })
            .map_err(|e| e.to_string())
    }

    fn http_of(check: &str) -> (Option<MatchRegex>, HttpOptions) {
        let loaded = load(check).unwrap_or_else(|e| panic!("{check}: {e}"));
        let inst = loaded.environment.instance("w1").unwrap();
        match &inst.lifecycle.running[0] {
            crate::config::model::Check::Http {
                match_regex,
                requests_options,
                ..
            } => (match_regex.clone(), (**requests_options).clone()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_parse() {
        let (re, o) = http_of(
            r#"{type: http, port: http, match_regex: 'up(?=!)', requests_options: {auth: [ops, s3cret], headers: {X-Ready: "1", Accept: null}, cert: [c.pem, k.pem], verify: /ca.pem, timeout: [1, 2.5], allow_redirects: false}}"#,
        );
        assert_eq!(re.unwrap().pattern(), "up(?=!)");
        let auth = o.auth.unwrap();
        assert_eq!(
            (auth.username.as_str(), auth.password.expose()),
            ("ops", "s3cret")
        );
        assert_eq!(o.headers.len(), 2);
        assert_eq!(o.headers[0].value.as_ref().unwrap().expose(), "1");
        assert!(o.headers[1].value.is_none());
        assert_eq!(
            o.cert,
            Some(ClientCert {
                cert: "c.pem".into(),
                key: Some("k.pem".into())
            })
        );
        assert_eq!(o.verify, Verify::Bundle("/ca.pem".into()));
        assert_eq!(
            o.timeout,
            Some(HttpTimeout {
                connect: Some(1.0),
                read: Some(2.5)
            })
        );
        assert!(!o.allow_redirects);

        let (re, o) = http_of(
            "{type: http, port: 8080, scheme: HTTPS, method: Fetch, requests_options: {verify: false, timeout: 3, cert: both.pem}}",
        );
        assert!(re.is_none());
        assert_eq!(o.verify, Verify::Off);
        assert_eq!(o.timeout.unwrap().read, Some(3.0));
        assert_eq!(o.cert.unwrap().key, None);
        assert!(o.allow_redirects);
        let (_, o) = http_of("{type: http, port: 8080}");
        assert_eq!(o, HttpOptions::default());
        let (_, o) = http_of(
            "{type: http, port: 8080, requests_options: {params: {q: a b/é, n: [1, 2.5, null, true], z: null}}}",
        );
        assert_eq!(
            o.params.unwrap().encode(),
            "q=a+b%2F%C3%A9&n=1&n=2.5&n=True"
        );
        let (_, o) = http_of("{type: http, port: 8080, requests_options: {params: 'x=1&y'}}");
        assert_eq!(o.params, Some(HttpParams::Text("x=1&y".into())));
    }

    #[test]
    fn unsupported_requests_keys_warn_and_unknown_ones_fail() {
        let loaded =
            load("{type: http, port: 8080, requests_options: {json: {a: b}, stream: true}}")
                .unwrap();
        let warnings: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].contains("\"json\" is not supported by maestro (ignored)"),
            "{warnings:?}"
        );
        let err = load("{type: http, port: 8080, requests_options: {bogus: 1}}").unwrap_err();
        assert!(
            err.starts_with("t.yaml:12:")
                && err.contains("requests_options.bogus")
                && err.contains("unknown requests option \"bogus\""),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_errors_at_their_position() {
        for (check, words) in [
            (
                "{type: http, port: 8080, match_regex: 'up(?=x'}",
                &["t.yaml:12:53", "match_regex", "bad regex \"up(?=x\""][..],
            ),
            (
                "{type: http, port: 8080, requests_options: {auth: secret}}",
                &["auth", "expected [user, password], found str"],
            ),
            (
                "{type: http, port: 8080, requests_options: {auth: [u, [p]]}}",
                &["auth[1]", "expected a string, found list"],
            ),
            (
                "{type: http, port: 8080, requests_options: {timeout: '5'}}",
                &["timeout", "expected a number of seconds, found str"],
            ),
            (
                "{type: http, port: 8080, requests_options: {timeout: [1, 2, 3]}}",
                &["timeout", "found a list of 3"],
            ),
            (
                "{type: http, port: 8080, requests_options: {timeout: 0}}",
                &["timeout", "greater than 0"],
            ),
            (
                "{type: http, port: 8080, requests_options: {verify: 1}}",
                &[
                    "verify",
                    "expected true, false or a CA bundle path, found int",
                ],
            ),
            (
                "{type: http, port: 8080, requests_options: {headers: {X-N: 1}}}",
                &["headers.X-N", "found int"],
            ),
            (
                "{type: http, port: 8080, requests_options: {headers: {'bad name': x}}}",
                &["invalid header name"],
            ),
            (
                "{type: http, port: 8080, requests_options: [verify]}",
                &["requests_options", "expected a mapping"],
            ),
            (
                "{type: http, port: 8080, scheme: ftp}",
                &["scheme", "invalid scheme \"ftp\" (expected http or https)"],
            ),
            (
                "{type: http, port: 8080, method: 'get it'}",
                &["method", "invalid HTTP method \"get it\""],
            ),
        ] {
            let err = load(check).unwrap_err();
            for w in words {
                assert!(err.contains(w), "{w:?} not in {err}");
            }
        }
        // The password is never part of an error.
        let err = load("{type: http, port: 8080, requests_options: {auth: [u, hunter2, x]}}")
            .unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
