//! `healthcheck` (service and instance, merged per key as `limits` is): the
//! engine's health probe, in docker compose's forms, and durations
//! (`30s`, `1m30s`, `500ms`, or a number of seconds).

use std::time::Duration;

use super::error::ConfigError;
use super::keys::healthcheck as key;
use super::keys::instance::HEALTHCHECK;
use super::model::{Check, HealthCheck, HealthTest, Lifecycle};
use super::read::{Ctx, Owners, join};
use super::yaml::{Node, PyScalar, Value, node_str};

/// A parsed `healthcheck` and, when it is turned off, the node that turned
/// it off (for the error of a `health` lifecycle check that could never pass).
pub(super) struct Parsed<'n> {
    pub check: Option<HealthCheck>,
    disabled_by: Option<(&'n Node, String)>,
}

/// The service's `healthcheck` with the instance's keys over it; `None` when
/// neither has one (the image's `HEALTHCHECK`, if any, applies).
pub(super) fn healthcheck<'n>(
    ctx: &mut Ctx,
    owners: Owners<'n>,
) -> Result<Parsed<'n>, ConfigError> {
    // (key, value, path, level: 0 the service's, 1 the instance's)
    let mut merged: Vec<(String, &'n Node, String, usize)> = Vec::new();
    let mut any = false;
    for (level, (source, base)) in owners.sources(HEALTHCHECK).into_iter().enumerate() {
        let Some(source) = source else { continue };
        any = true;
        let entries = ctx.map(source, &base)?;
        ctx.check_keys(entries, key::ALL, &base, "healthcheck")?;
        for (k, v) in entries {
            let name = node_str(k);
            if !key::ALL.contains(&name.as_str()) {
                continue;
            }
            let kpath = join(&base, &name);
            match merged.iter_mut().find(|(n, ..)| *n == name) {
                Some(slot) => *slot = (name, v, kpath, level),
                None => merged.push((name, v, kpath, level)),
            }
        }
    }
    if !any {
        return Ok(Parsed {
            check: None,
            disabled_by: None,
        });
    }
    let mut out = HealthCheck::default();
    let mut given_test = None;
    let mut disable = None;
    for (name, node, kpath, level) in merged {
        if node.is_null() {
            continue;
        }
        match name.as_str() {
            key::TEST => given_test = Some((test(ctx, node, &kpath)?, node, kpath, level)),
            key::DISABLE => {
                if ctx.flag(Some(node), &kpath) {
                    disable = Some((node, kpath, level));
                }
            }
            key::RETRIES => {
                let n = ctx.uint(node, &kpath)?;
                let n = u32::try_from(n)
                    .map_err(|_| ctx.err(Some(node), &kpath, format!("{n} retries is too many")))?;
                out.retries = (n > 0).then_some(n);
            }
            _ => {
                let d = duration(ctx, node, &kpath)?;
                let slot = match name.as_str() {
                    key::INTERVAL => &mut out.interval,
                    key::TIMEOUT => &mut out.timeout,
                    _ => &mut out.start_period,
                };
                *slot = (!d.is_zero()).then_some(d);
            }
        }
    }
    // `disable` and a test: the instance's wins over the service's; both in
    // one mapping contradict each other.
    let disabled_by = match (given_test, disable) {
        (Some((test, _, test_path, test_level)), Some((node, path, level))) => {
            if test != HealthTest::None && test_level == level {
                return Err(ctx.err(
                    Some(node),
                    &path,
                    format!(
                        "the health check is disabled here and given a test at {test_path}: keep one"
                    ),
                ));
            }
            if test_level > level && test != HealthTest::None {
                out.test = Some(test);
                None
            } else {
                out.test = Some(HealthTest::None);
                Some((node, path))
            }
        }
        (Some((test, node, path, _)), None) => {
            let off = test == HealthTest::None;
            out.test = Some(test);
            off.then_some((node, path))
        }
        (None, Some((node, path, _))) => {
            out.test = Some(HealthTest::None);
            Some((node, path))
        }
        (None, None) => None,
    };
    Ok(Parsed {
        check: Some(out),
        disabled_by,
    })
}

/// A `health` lifecycle check on a container whose health check is turned
/// off could never pass: a configuration error, not a wait until `max_wait`.
pub(super) fn gate(ctx: &Ctx, parsed: &Parsed, lifecycle: &Lifecycle) -> Result<(), ConfigError> {
    let Some((node, path)) = &parsed.disabled_by else {
        return Ok(());
    };
    let states = [
        ("pre-start", &lifecycle.pre_start),
        ("running", &lifecycle.running),
        ("pre-stop", &lifecycle.pre_stop),
        ("stopped", &lifecycle.stopped),
    ];
    match states
        .iter()
        .find(|(_, checks)| checks.iter().any(|c| matches!(c, Check::Health { .. })))
    {
        Some((state, _)) => Err(ctx.err(
            Some(node),
            path,
            format!(
                "the health check is disabled, but the {state} lifecycle checks wait for \
                 it (type: health): they could never pass"
            ),
        )),
        None => Ok(()),
    }
}

/// `test`: a string (run by the shell), `[CMD, prog, args...]`,
/// `[CMD-SHELL, line]` or `[NONE]`.
fn test(ctx: &Ctx, node: &Node, path: &str) -> Result<HealthTest, ConfigError> {
    const FORMS: &str =
        "expected a command line, [CMD, program, args...], [CMD-SHELL, command line] or [NONE]";
    let items = match &node.value {
        Value::Seq(items) => items,
        Value::Scalar(_) => {
            let line = ctx.string(node, path)?;
            if line.trim().is_empty() {
                return Err(ctx.err(Some(node), path, format!("{FORMS}, found an empty string")));
            }
            return Ok(HealthTest::CmdShell(line));
        }
        Value::Map(_) => {
            return Err(ctx.err(Some(node), path, format!("{FORMS}, found dict")));
        }
    };
    let words: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, item)| ctx.string(item, &format!("{path}[{i}]")))
        .collect::<Result<_, _>>()?;
    match words.split_first() {
        Some((kind, rest)) if kind == "NONE" && rest.is_empty() => Ok(HealthTest::None),
        Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => {
            Ok(HealthTest::Cmd(rest.to_vec()))
        }
        Some((kind, [line])) if kind == "CMD-SHELL" => Ok(HealthTest::CmdShell(line.clone())),
        Some((kind, _)) if ["NONE", "CMD", "CMD-SHELL"].contains(&kind.as_str()) => Err(ctx.err(
            Some(node),
            path,
            format!(
                "{FORMS}: {kind} takes {}",
                match kind.as_str() {
                    "NONE" => "nothing after it",
                    "CMD" => "a program after it",
                    _ => "exactly one command line after it",
                }
            ),
        )),
        Some((kind, _)) => Err(ctx.err(
            Some(node),
            path,
            format!("{FORMS}: the list starts with {kind:?}"),
        )),
        None => Err(ctx.err(Some(node), path, format!("{FORMS}, found an empty list"))),
    }
}

/// A duration as docker compose writes it: Go's `1m30s`, `500ms`, `1.5h`
/// (units `ns`, `us`, `ms`, `s`, `m`, `h`), or a number of seconds.
/// Docker takes nothing between 0 and 1 ms.
pub(super) fn duration(ctx: &Ctx, node: &Node, path: &str) -> Result<Duration, ConfigError> {
    let bad = |found: String| {
        ctx.err(
            Some(node),
            path,
            format!("expected a duration such as 30s, 1m30s or 500ms (or seconds), found {found}"),
        )
    };
    let d = match node.scalar().map(|s| &s.value) {
        Some(PyScalar::Int(_)) => Duration::from_secs(ctx.uint(node, path)?),
        Some(PyScalar::Float(f)) if f.is_finite() && *f >= 0.0 && *f < 1e12 => {
            Duration::from_secs_f64(*f)
        }
        Some(PyScalar::Str(text)) => {
            parse_duration(text).ok_or_else(|| bad(format!("{text:?}")))?
        }
        Some(other) => return Err(bad(other.type_name().to_owned())),
        None => return Err(bad(node.type_name().to_owned())),
    };
    if !d.is_zero() && d < Duration::from_millis(1) {
        return Err(ctx.err(
            Some(node),
            path,
            format!("{d:?} is too short: Docker takes 0 (the image's value) or 1ms at least"),
        ));
    }
    Ok(d)
}

/// Go's `time.ParseDuration` for non-negative values (a bare number is
/// seconds); public so import-compose reads durations as the loader does.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return (0.0..1e12)
            .contains(&secs)
            .then(|| Duration::from_secs_f64(secs));
    }
    let mut rest = text;
    let mut total: f64 = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per: f64 = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * nanos_per;
    }
    (total < 1e21).then(|| Duration::from_nanos(total.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_service_a as with;

    fn health(service: &str, instance: &str) -> Option<HealthCheck> {
        let loaded = with(service, instance).unwrap_or_else(|e| panic!("{e}"));
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        loaded.environment.instances[0].healthcheck.clone()
    }

    #[test]
    fn the_three_test_forms_and_the_timings() {
        let h = health(
            "omit: false",
            "healthcheck: {test: [CMD, wget, -q, localhost], interval: 1m30s, timeout: 500ms, retries: 3, start_period: 5}",
        )
        .unwrap();
        assert_eq!(
            h.test,
            Some(HealthTest::Cmd(vec![
                "wget".into(),
                "-q".into(),
                "localhost".into()
            ]))
        );
        assert_eq!(h.interval, Some(Duration::from_secs(90)));
        assert_eq!(h.timeout, Some(Duration::from_millis(500)));
        assert_eq!(h.retries, Some(3));
        assert_eq!(h.start_period, Some(Duration::from_secs(5)));
        let shell = |t: &str| {
            health("omit: false", &format!("healthcheck: {{test: {t}}}"))
                .unwrap()
                .test
        };
        assert_eq!(
            shell("'test -f /ok'"),
            Some(HealthTest::CmdShell("test -f /ok".into()))
        );
        assert_eq!(
            shell("[CMD-SHELL, 'test -f /ok']"),
            Some(HealthTest::CmdShell("test -f /ok".into()))
        );
        assert_eq!(shell("[NONE]"), Some(HealthTest::None));
        let off = health("omit: false", "healthcheck: {disable: true}").unwrap();
        assert!(off.is_disabled());
        // Only timings: the image's test with them; none at all: the image's check.
        assert_eq!(
            health("omit: false", "healthcheck: {interval: 2s}")
                .unwrap()
                .test,
            None
        );
        assert_eq!(health("omit: false", "image: x"), None);
    }

    #[test]
    fn the_instance_keys_go_over_the_services() {
        let h = health(
            "healthcheck: {test: 'true', interval: 10s, retries: 5}",
            "healthcheck: {interval: 1s}",
        )
        .unwrap();
        assert_eq!(h.test, Some(HealthTest::CmdShell("true".into())));
        assert_eq!(h.interval, Some(Duration::from_secs(1)));
        assert_eq!(h.retries, Some(5));
        // An instance may turn off its service's check.
        assert!(
            health(
                "healthcheck: {interval: 10s}",
                "healthcheck: {disable: yes}"
            )
            .unwrap()
            .is_disabled()
        );
    }

    #[test]
    fn mistakes_are_errors_at_their_place() {
        let err = |service: &str, instance: &str| with(service, instance).err().unwrap_or_default();
        assert_eq!(
            err("omit: false", "healthcheck: {test: [CMD]}"),
            "t.yaml:8:43: services.a.instances.a-1.healthcheck.test: expected a command line, [CMD, program, args...], [CMD-SHELL, command line] or [NONE]: CMD takes a program after it"
        );
        assert_eq!(
            err("omit: false", "healthcheck: {test: [curl, x]}"),
            "t.yaml:8:43: services.a.instances.a-1.healthcheck.test: expected a command line, [CMD, program, args...], [CMD-SHELL, command line] or [NONE]: the list starts with \"curl\""
        );
        assert_eq!(
            err("omit: false", "healthcheck: {interval: soon}"),
            "t.yaml:8:47: services.a.instances.a-1.healthcheck.interval: expected a duration such as 30s, 1m30s or 500ms (or seconds), found \"soon\""
        );
        assert_eq!(
            err("omit: false", "healthcheck: {timeout: 10us}"),
            "t.yaml:8:46: services.a.instances.a-1.healthcheck.timeout: 10µs is too short: Docker takes 0 (the image's value) or 1ms at least"
        );
        assert_eq!(
            err("omit: false", "healthcheck: {test: 'true', disable: true}"),
            "t.yaml:8:60: services.a.instances.a-1.healthcheck.disable: the health check is disabled here and given a test at services.a.instances.a-1.healthcheck.test: keep one"
        );
        assert_eq!(
            err("omit: false", "healthcheck: {timout: 1s}"),
            "t.yaml:8:37: services.a.instances.a-1.healthcheck.timout: unknown healthcheck key \"timout\""
        );
    }

    /// A wait for a health check that is turned off could never end well.
    #[test]
    fn a_health_gate_on_a_disabled_check_is_an_error() {
        let service = "lifecycle: {running: [{type: health, max_wait: 5}]}";
        assert_eq!(
            with(service, "healthcheck: {disable: true}")
                .err()
                .unwrap_or_default(),
            "t.yaml:8:46: services.a.instances.a-1.healthcheck.disable: the health check is disabled, but the running lifecycle checks wait for it (type: health): they could never pass"
        );
        let loaded = with(service, "image: x").unwrap();
        assert_eq!(
            loaded.environment.instances[0].lifecycle.running,
            [Check::Health { max_wait: 5 }]
        );
        let loaded = with("lifecycle: {running: [{type: health}]}", "image: x").unwrap();
        assert_eq!(
            loaded.environment.instances[0].lifecycle.running,
            [Check::Health { max_wait: 300 }]
        );
        assert_eq!(
            with(
                "lifecycle: {running: [{type: health, port: p}]}",
                "image: x"
            )
            .err()
            .unwrap_or_default(),
            "t.yaml:6:42: services.a.lifecycle.running[0].port: unknown health check key \"port\""
        );
        assert_eq!(
            with("lifecycle: {stopped: [{type: health}]}", "image: x")
                .err()
                .unwrap_or_default(),
            "t.yaml:6:27: services.a.lifecycle.stopped[0]: a health check waits for a running container: it belongs in running or pre-stop, not stopped"
        );
        assert!(with("lifecycle: {pre-stop: [{type: health}]}", "image: x").is_ok());
    }

    #[test]
    fn durations_read_as_go_and_compose_write_them() {
        let d = |s: &str| parse_duration(s);
        assert_eq!(d("30s"), Some(Duration::from_secs(30)));
        assert_eq!(d("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(d("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(d("2h45m10s"), Some(Duration::from_secs(9910)));
        assert_eq!(d("10us"), Some(Duration::from_micros(10)));
        assert_eq!(d("7"), Some(Duration::from_secs(7)));
        assert_eq!(d("0"), Some(Duration::ZERO));
        for bad in ["", "s", "30x", "1m30", "-5s", "1d", "30 s"] {
            assert_eq!(d(bad), None, "{bad:?}");
        }
    }
}
