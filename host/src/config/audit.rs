//! The `audit:` section: the auditors MaestroNG 0.8.3 notifies of every play
//! (host/COMPAT.md § Audit trail), parsed and validated here, without any I/O. What they send
//! and how lives in [`crate::audit`].
//!
//! Each list item is a mapping with a `type` (`log`, `http`, `exec`, `slack`,
//! `hipchat`, `_fail`), an optional `level` (`info`, the default, or `debug`),
//! an optional `ignore_errors` (only the boolean `true` counts, as in 0.8.3) and
//! the keys of its type. 0.8.3 builds its auditors when it loads the file and
//! rejects a bad one then; so do we, with the file position and the key.

use std::path::PathBuf;

use super::error::ConfigError;
use super::keys::{auditor as key, auditor_types};
pub use super::model::audit::*;
use super::read::{Ctx, Entries, get, get_set, join};
use super::yaml::{Node, PyScalar, Value, node_str};

/// Builds the auditors of the `audit` section (absent or null: none).
pub(super) fn build_audit(ctx: &mut Ctx, node: Option<&Node>) -> Result<Vec<Auditor>, ConfigError> {
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return Ok(Vec::new());
    };
    let Value::Seq(items) = &node.value else {
        return Err(ctx.err(
            Some(node),
            "audit",
            format!("expected a list of auditors, found {}", node.type_name()),
        ));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("audit[{i}]");
        let entries = match &item.value {
            Value::Map(e) => e,
            _ => {
                return Err(ctx.err(
                    Some(item),
                    &path,
                    format!(
                        "expected an auditor (a mapping with a type), found {}",
                        item.type_name()
                    ),
                ));
            }
        };
        out.push(build_one(ctx, item, entries, &path, i + 1)?);
    }
    Ok(out)
}

/// One auditor's mapping and where it is.
struct AuditorNode<'a> {
    item: &'a Node,
    entries: &'a Entries,
    path: &'a str,
}

impl AuditorNode<'_> {
    /// A required, non-empty string key; `what` names it in messages.
    fn required(&self, ctx: &Ctx, key: &str, what: &str) -> Result<String, ConfigError> {
        let p = join(self.path, key);
        match get_set(self.entries, key) {
            None => Err(ctx.err(Some(self.item), &p, format!("the {what} is missing"))),
            Some(n) => {
                let s = ctx.string(n, &p)?;
                if s.is_empty() {
                    Err(ctx.err(Some(n), &p, format!("the {what} is empty")))
                } else {
                    Ok(s)
                }
            }
        }
    }
}

/// An auditor type's parser.
type Parser = fn(&mut Ctx, &AuditorNode) -> Result<AuditorKind, ConfigError>;

fn build_one(
    ctx: &mut Ctx,
    item: &Node,
    entries: &Entries,
    path: &str,
    number: usize,
) -> Result<Auditor, ConfigError> {
    let Some(type_node) = get_set(entries, key::TYPE) else {
        return Err(ctx.err(
            Some(item),
            &join(path, key::TYPE),
            "the auditor type is missing (log, http, exec, slack or hipchat)",
        ));
    };
    let kind_name = ctx.string(type_node, &join(path, key::TYPE))?;
    let (own, parse): (&[&str], Parser) = match kind_name.as_str() {
        "log" => (auditor_types::LOG, log_auditor),
        "http" => (auditor_types::HTTP, http_auditor),
        "exec" => (auditor_types::EXEC, exec_auditor),
        "slack" => (auditor_types::SLACK, slack_auditor),
        "hipchat" => (auditor_types::HIPCHAT, hipchat_auditor),
        "_fail" => (&[], |_, _| Ok(AuditorKind::Fail)),
        other => {
            return Err(ctx.err(
                Some(type_node),
                &join(path, key::TYPE),
                format!("unknown auditor type {other:?}; use log, http, exec, slack or hipchat"),
            ));
        }
    };
    let known: Vec<&str> = auditor_types::COMMON.iter().chain(own).copied().collect();
    ctx.check_keys(entries, &known, path, "auditor")?;

    let level = match get(entries, key::LEVEL) {
        None => INFO,
        Some(n) => level(ctx, n, &join(path, key::LEVEL))?,
    };
    let ignore_errors = match get(entries, key::IGNORE_ERRORS) {
        None => false,
        Some(n) => match n.scalar().map(|s| &s.value) {
            Some(PyScalar::Bool(b)) => *b,
            _ => {
                ctx.warn(
                    n,
                    &join(path, key::IGNORE_ERRORS),
                    format!(
                        "expected true or false, read {} as false (MaestroNG honours only the boolean true)",
                        node_str(n)
                    ),
                );
                false
            }
        },
    };
    let kind = parse(
        ctx,
        &AuditorNode {
            item,
            entries,
            path,
        },
    )?;
    Ok(Auditor {
        number,
        level,
        ignore_errors,
        kind,
    })
}

/// `type: log`.
fn log_auditor(ctx: &mut Ctx, a: &AuditorNode) -> Result<AuditorKind, ConfigError> {
    Ok(AuditorKind::Log {
        file: PathBuf::from(a.required(ctx, key::FILE, "audit log file name")?),
    })
}

/// `type: http`: a webhook.
fn http_auditor(ctx: &mut Ctx, a: &AuditorNode) -> Result<AuditorKind, ConfigError> {
    let (entries, path) = (a.entries, a.path);
    let given = a.required(ctx, key::ENDPOINT, "webhook endpoint")?;
    let (endpoint, credentials) = split_credentials(&given);
    let endpoint_node = get_set(entries, key::ENDPOINT);
    check_url(ctx, endpoint_node, &join(path, key::ENDPOINT), &endpoint)?;
    let method = match get_set(entries, key::METHOD) {
        None => HttpMethod::Post,
        Some(n) => {
            let m = ctx.string(n, &join(path, key::METHOD))?;
            match m.to_uppercase().as_str() {
                "GET" => HttpMethod::Get,
                "POST" => HttpMethod::Post,
                _ => {
                    return Err(ctx.err(
                        Some(n),
                        &join(path, key::METHOD),
                        format!("invalid HTTP method {m:?}; use GET or POST"),
                    ));
                }
            }
        }
    };
    let headers = match get_set(entries, key::HEADERS) {
        None => Vec::new(),
        Some(n) => {
            let hpath = join(path, key::HEADERS);
            let mut out = Vec::new();
            for (k, v) in ctx.map(n, &hpath)? {
                let name = node_str(k);
                let vpath = join(&hpath, &name);
                if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(ctx.err(
                        Some(k),
                        &vpath,
                        format!("{name:?} is not a valid HTTP header name"),
                    ));
                }
                let value = ctx.string(v, &vpath)?;
                if hyper::header::HeaderValue::from_str(&value).is_err() {
                    return Err(ctx.err(
                        Some(v),
                        &vpath,
                        "the header value is not valid in HTTP (control characters or line breaks)",
                    ));
                }
                out.push(Header {
                    name,
                    value: Secret(value),
                });
            }
            out
        }
    };
    let payload = match get(entries, key::PAYLOAD) {
        None => Payload::Map(Vec::new()),
        Some(n) => payload(ctx, n, &join(path, key::PAYLOAD))?,
    };
    let timeout_secs = match get_set(entries, key::TIMEOUT) {
        None => HTTP_TIMEOUT_SECS,
        Some(n) => {
            let t = ctx.number(n, &join(path, key::TIMEOUT))?;
            if t <= 0.0 {
                return Err(ctx.err(
                    Some(n),
                    &join(path, key::TIMEOUT),
                    "the timeout must be more than 0 seconds",
                ));
            }
            t
        }
    };
    Ok(AuditorKind::Http {
        endpoint: Endpoint(endpoint),
        credentials: credentials.map(Secret),
        method,
        headers,
        payload,
        timeout_secs,
    })
}

/// `type: exec`: a local script.
fn exec_auditor(ctx: &mut Ctx, a: &AuditorNode) -> Result<AuditorKind, ConfigError> {
    let (entries, path) = (a.entries, a.path);
    let script = a.required(ctx, key::SCRIPT, "script to execute")?;
    let args = match get_set(entries, key::ARGS) {
        // 0.8.3 crashes (and so never runs the script): no arguments.
        None => Template {
            source: String::new(),
            pieces: Vec::new(),
        },
        Some(n) => {
            let p = join(path, key::ARGS);
            let Some(s) = n.scalar().filter(|s| matches!(s.value, PyScalar::Str(_))) else {
                return Err(ctx.err(
                    Some(n),
                    &p,
                    format!(
                        "expected a string (the arguments, split on spaces), found {}",
                        n.type_name()
                    ),
                ));
            };
            Template::parse(&s.value.py_str(), &[Field::Action, Field::What, Field::Who])
                .map_err(|m| ctx.err(Some(n), &p, m.to_string()))?
        }
    };
    Ok(AuditorKind::Exec { script, args })
}

/// `type: slack`.
fn slack_auditor(ctx: &mut Ctx, a: &AuditorNode) -> Result<AuditorKind, ConfigError> {
    let (entries, path) = (a.entries, a.path);
    Ok(AuditorKind::Slack {
        name: ctx
            .opt_string(get_set(entries, key::NAME), &join(path, key::NAME))?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "maestro-ng".into()),
        channel: a.required(ctx, key::CHANNEL, "Slack channel name")?,
        token: Secret(a.required(ctx, key::TOKEN, "Slack bot token")?),
        icon: ctx
            .opt_string(get_set(entries, key::ICON), &join(path, key::ICON))?
            .filter(|s| !s.is_empty()),
    })
}

/// `type: hipchat`.
fn hipchat_auditor(ctx: &mut Ctx, a: &AuditorNode) -> Result<AuditorKind, ConfigError> {
    let (entries, path) = (a.entries, a.path);
    Ok(AuditorKind::Hipchat {
        name: ctx
            .opt_string(get_set(entries, key::NAME), &join(path, key::NAME))?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "maestro-ng".into()),
        room: a.required(ctx, key::ROOM, "HipChat room name")?,
        token: Secret(a.required(ctx, key::TOKEN, "HipChat API token")?),
    })
}

/// `info`, `debug`, or a number (a Python logging level, which 0.8.3 takes as is).
fn level(ctx: &Ctx, n: &Node, path: &str) -> Result<u32, ConfigError> {
    match n.scalar().map(|s| &s.value) {
        Some(PyScalar::Str(s)) if s == "info" => Ok(INFO),
        Some(PyScalar::Str(s)) if s == "debug" => Ok(DEBUG),
        Some(PyScalar::Int(_)) => {
            let v = ctx.uint(n, path)?;
            u32::try_from(v)
                .map_err(|_| ctx.err(Some(n), path, format!("level {v} is out of range")))
        }
        _ => Err(ctx.err(
            Some(n),
            path,
            format!("unknown audit level {}; use info or debug", node_str(n)),
        )),
    }
}

fn check_url(ctx: &Ctx, node: Option<&Node>, path: &str, url: &str) -> Result<(), ConfigError> {
    let bad = |why: &str| ctx.err(node, path, format!("invalid webhook endpoint: {why}"));
    let uri: hyper::Uri = url.parse().map_err(|_| bad("not a URL"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => return Err(bad("the URL must start with http:// or https://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("the URL has no host"));
    }
    Ok(())
}

/// Splits `user:password@` off a URL: the URL without it and the credentials,
/// percent-decoded (requests' `get_auth_from_url`), sent as Basic auth.
fn split_credentials(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => (
            format!("{scheme}://{host}{tail}"),
            Some(percent_decode(userinfo)),
        ),
        None => (url.to_owned(), None),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn payload(ctx: &Ctx, n: &Node, path: &str) -> Result<Payload, ConfigError> {
    Ok(match &n.value {
        Value::Scalar(s) => match &s.value {
            PyScalar::None => Payload::Null,
            PyScalar::Bool(b) => Payload::Bool(*b),
            PyScalar::Int(d) => Payload::Int(d.clone()),
            PyScalar::Float(f) => Payload::Float(*f),
            PyScalar::Str(t) => Payload::Text(
                Template::parse(t, &[Field::What, Field::Action, Field::Who, Field::Message])
                    .map_err(|m| ctx.err(Some(n), path, m.to_string()))?,
            ),
            other => Payload::Text(Template {
                source: other.py_str(),
                pieces: vec![Piece::Text(other.py_str())],
            }),
        },
        Value::Seq(items) => Payload::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| payload(ctx, item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => Payload::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = node_str(k);
                    let p = join(path, &key);
                    Ok((key, payload(ctx, v, &p)?))
                })
                .collect::<Result<_, ConfigError>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Vec<Field> {
        vec![Field::What, Field::Action, Field::Who, Field::Message]
    }

    #[test]
    fn templates_read_named_fields_and_doubled_braces() {
        let t = Template::parse("{who} {{x}} is {action}ing {what}: {message}", &fields()).unwrap();
        let filled = t.fill(|f| f.name().to_uppercase());
        assert_eq!(filled, "WHO {x} is ACTIONing WHAT: MESSAGE");
    }

    #[test]
    fn templates_refuse_what_python_would_fail_on() {
        let only = [Field::Action, Field::What, Field::Who];
        assert!(
            Template::parse("{message}", &only)
                .unwrap_err()
                .0
                .contains("unknown placeholder {message}")
        );
        assert!(
            Template::parse("{what:>10}", &only)
                .unwrap_err()
                .0
                .contains("format specifications")
        );
        assert!(
            Template::parse("{}", &only)
                .unwrap_err()
                .0
                .contains("unknown placeholder {}")
        );
        assert!(
            Template::parse("a } b", &only)
                .unwrap_err()
                .0
                .contains("single '}'")
        );
        assert!(
            Template::parse("a { b", &only)
                .unwrap_err()
                .0
                .contains("without its '}'")
        );
    }

    fn load(audit: &str) -> Result<crate::config::Loaded, ConfigError> {
        let text = format!("name: t\nships: {{s: {{ip: 1.2.3.4}}}}\naudit:\n{audit}");
        crate::config::load_text(text, crate::config::Options::default())
    }

    fn auditors(audit: &str) -> Vec<Auditor> {
        load(audit)
            .unwrap_or_else(|e| panic!("{e}"))
            .environment
            .audit
    }

    fn error(audit: &str) -> String {
        load(audit).map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn every_type_reads_with_maestrong_s_defaults() {
        let a = auditors(
            "  - {type: log, file: /tmp/audit.log}\n\
             \x20 - {type: http, endpoint: 'http://127.0.0.1:9/hook', level: debug, ignore_errors: true}\n\
             \x20 - {type: exec, script: /bin/true, args: '{action} {what}'}\n\
             \x20 - {type: slack, channel: '#ops', token: xoxb-1}\n\
             \x20 - {type: hipchat, room: r, token: t}\n\
             \x20 - {type: _fail}\n",
        );
        assert_eq!(a.len(), 6);
        assert_eq!(a[0].level, INFO);
        assert!(!a[0].ignore_errors);
        assert!(
            matches!(&a[0].kind, AuditorKind::Log { file } if file == std::path::Path::new("/tmp/audit.log"))
        );
        assert_eq!(a[1].level, DEBUG);
        assert!(a[1].ignore_errors);
        match &a[1].kind {
            AuditorKind::Http {
                method,
                headers,
                payload,
                timeout_secs,
                ..
            } => {
                assert_eq!(*method, HttpMethod::Post);
                assert!(headers.is_empty());
                assert_eq!(*payload, Payload::Map(Vec::new()));
                assert_eq!(*timeout_secs, 3.0);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&a[2].kind, AuditorKind::Exec { script, .. } if script == "/bin/true"));
        assert!(
            matches!(&a[3].kind, AuditorKind::Slack { name, icon: None, .. } if name == "maestro-ng")
        );
        assert_eq!(a[4].kind.type_name(), "hipchat");
        assert_eq!(a[5].label(), "auditor #6 (_fail)");
    }

    #[test]
    fn http_keys_are_checked() {
        let a = auditors(
            "  - type: http\n    endpoint: https://example.com/x\n    method: get\n    timeout: 0.5\n\
             \x20   headers: {X-Token: abc, X-N: 3}\n    payload: {text: '{who}: {message}', n: [1, '{what}']}\n",
        );
        let AuditorKind::Http {
            method,
            headers,
            payload,
            timeout_secs,
            ..
        } = &a[0].kind
        else {
            panic!()
        };
        assert_eq!(*method, HttpMethod::Get);
        assert_eq!(*timeout_secs, 0.5);
        assert_eq!(headers[1].value.0, "3");
        let Payload::Map(entries) = payload else {
            panic!()
        };
        assert_eq!(entries[0].0, "text");
        assert!(matches!(&entries[1].1, Payload::List(l) if l[0] == Payload::Int("1".into())));
    }

    #[test]
    fn bad_auditors_are_config_errors_with_their_place() {
        assert_eq!(
            error("  - {type: carrier-pigeon}\n"),
            "t.yaml:4:12: audit[0].type: unknown auditor type \"carrier-pigeon\"; use log, http, exec, slack or hipchat"
        );
        assert_eq!(
            error("  - {file: x}\n"),
            "t.yaml:4:5: audit[0].type: the auditor type is missing (log, http, exec, slack or hipchat)"
        );
        assert!(
            error("  - {type: log}\n")
                .ends_with("audit[0].file: the audit log file name is missing")
        );
        assert!(
            error("  - {type: http}\n")
                .ends_with("audit[0].endpoint: the webhook endpoint is missing")
        );
        assert!(
            error("  - {type: http, endpoint: 'ftp://x/'}\n")
                .contains("must start with http:// or https://")
        );
        assert!(
            error("  - {type: http, endpoint: 'http://x/', method: PUT}\n")
                .ends_with("audit[0].method: invalid HTTP method \"PUT\"; use GET or POST")
        );
        assert!(
            error("  - {type: http, endpoint: 'http://x/', payload: {a: '{nope}'}}\n")
                .contains("audit[0].payload.a: unknown placeholder {nope}")
        );
        assert!(
            error("  - {type: exec, script: x, args: '{message}'}\n")
                .contains("audit[0].args: unknown placeholder {message}")
        );
        assert!(
            error("  - {type: exec, script: x, args: [a]}\n")
                .contains("audit[0].args: expected a string")
        );
        assert!(
            error("  - {type: slack, channel: c}\n").ends_with("the Slack bot token is missing")
        );
        assert!(
            error("  - {type: hipchat, token: t}\n").ends_with("the HipChat room name is missing")
        );
        assert!(
            error("  - {type: log, file: x, level: warning}\n")
                .ends_with("audit[0].level: unknown audit level warning; use info or debug")
        );
        assert!(
            error("  {type: log, file: x}\n")
                .contains("audit: expected a list of auditors, found dict")
        );
        assert!(error("  - log\n").contains("audit[0]: expected an auditor"));
    }

    #[test]
    fn ignore_errors_is_only_the_boolean_true_and_unknown_keys_warn() {
        let loaded = load("  - {type: _fail, ignore_errors: 'yes', colour: red}\n").unwrap();
        assert!(!loaded.environment.audit[0].ignore_errors);
        let warnings: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("audit[0].ignore_errors: expected true or false")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("audit[0].colour: unknown auditor key")),
            "{warnings:?}"
        );
    }

    /// 0.8.3's own tests/yaml/auditor_ignore_errors.yaml.
    #[test]
    fn maestrong_s_ignore_errors_example_reads() {
        let a = auditors("  - type: _fail\n  - type: _fail\n    ignore_errors: True\n");
        assert!(!a[0].ignore_errors);
        assert!(a[1].ignore_errors);
    }

    #[test]
    fn dump_shows_no_secret() {
        let env = load(
            "  - {type: http, endpoint: 'https://hooks.example.com/T0/SECRET1', headers: {Authorization: SECRET2}, payload: {k: SECRET3}}\n\
             \x20 - {type: slack, channel: c, token: SECRET4}\n",
        )
        .unwrap()
        .environment;
        let text = serde_json::to_string(&env.audit).unwrap();
        assert!(!text.contains("SECRET"), "{text}");
        // Debug (never printed) hides the endpoint, header and token, not the payload.
        let debug = format!("{:?}", env.audit);
        for s in ["SECRET1", "SECRET2", "SECRET4"] {
            assert!(!debug.contains(s), "{debug}");
        }
    }

    #[test]
    fn credentials_in_the_endpoint_become_basic_auth() {
        let a = auditors(
            "  - {type: http, endpoint: 'https://bot:p%40ss@hooks.example.com:8443/x?y=1'}\n",
        );
        let AuditorKind::Http {
            endpoint,
            credentials,
            ..
        } = &a[0].kind
        else {
            panic!()
        };
        assert_eq!(endpoint.0, "https://hooks.example.com:8443/x?y=1");
        assert_eq!(credentials.as_ref().map(|c| c.0.as_str()), Some("bot:p@ss"));
    }

    #[test]
    fn endpoints_show_only_scheme_and_host() {
        assert_eq!(
            Endpoint("https://hooks.example.com/services/T0/B0/SECRET?x=1".into()).shown(),
            "https://hooks.example.com/<redacted>"
        );
        assert_eq!(
            Endpoint("http://127.0.0.1:8080/".into()).shown(),
            "http://127.0.0.1:8080"
        );
    }
}
