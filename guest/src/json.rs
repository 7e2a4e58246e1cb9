//! A tiny JSON writer that prints what Python's `json.dumps` prints.
//!
//! Shell scripts that switch from `python -c 'import json; print(json.dumps(
//! get_node_list(...)))'` to `maestro-guest node-list --json` must see the
//! same bytes, so this follows `json.dumps` defaults: `ensure_ascii=True`
//! (everything outside printable ASCII as `\uXXXX`, lower-case hex, UTF-16
//! surrogate pairs above the BMP) and the `", "` / `": "` separators. It is
//! hand-written because the guest ships in every image and serde_json would
//! cost more than the whole query code.

use std::collections::BTreeMap;

use maestro_guest::contract::{Topology, TopologyInstance, TopologyPort, TopologyService};

/// Appends `text` as a JSON string literal, escaped as `json.dumps` does.
pub fn push_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_u_escape(out, *unit);
                }
            }
        }
    }
    out.push('"');
}

/// `\uXXXX` with lower-case hex digits, as Python writes them.
fn push_u_escape(out: &mut String, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[usize::from((unit >> shift) & 0xf)] as char);
    }
}

/// A JSON string.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    push_str(&mut out, text);
    out
}

/// A JSON list of strings, `["a", "b"]`.
pub fn string_list<S: AsRef<str>>(items: &[S]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_str(&mut out, item.as_ref());
    }
    out.push(']');
    out
}

/// A string, or `null` when absent.
fn push_opt(out: &mut String, value: Option<&str>) {
    match value {
        Some(text) => push_str(out, text),
        None => out.push_str("null"),
    }
}

/// Starts an object member: the separator unless it is the first, the key
/// and the colon.
fn push_key(out: &mut String, first: bool, key: &str) {
    if !first {
        out.push_str(", ");
    }
    push_str(out, key);
    out.push_str(": ");
}

/// The topology for `info`. The shape, with every key always present and
/// `null` for a variable that is not set:
///
/// ```text
/// {"environment_name": "zk-kafka", "service_name": "kafka",
///  "container_name": "kafka-2", "host_address": "192.168.10.2",
///  "image": "kafka:latest", "tag": "latest",
///  "services": {"kafka": {"instances": [
///     {"name": "kafka-1", "host": "192.168.10.2",
///      "ports": {"broker": {"external": "9092", "internal": "9092"}}}, ...]}}}
/// ```
///
/// Ports stay strings: the variables may hold ranges (`9000-9002`).
pub fn topology(topology: &Topology) -> String {
    let mut out = String::with_capacity(1024);
    out.push('{');
    push_key(&mut out, true, "environment_name");
    push_str(&mut out, &topology.environment_name);
    for (key, value) in [
        ("service_name", &topology.service_name),
        ("container_name", &topology.container_name),
        ("host_address", &topology.host_address),
        ("image", &topology.image),
        ("tag", &topology.tag),
    ] {
        push_key(&mut out, false, key);
        push_opt(&mut out, value.as_deref());
    }
    push_key(&mut out, false, "services");
    push_services(&mut out, &topology.services);
    out.push('}');
    out
}

fn push_services(out: &mut String, services: &BTreeMap<String, TopologyService>) {
    out.push('{');
    for (i, (name, service)) in services.iter().enumerate() {
        push_key(out, i == 0, name);
        out.push('{');
        push_key(out, true, "instances");
        out.push('[');
        for (j, instance) in service.instances.iter().enumerate() {
            if j > 0 {
                out.push_str(", ");
            }
            push_instance(out, instance);
        }
        out.push_str("]}");
    }
    out.push('}');
}

fn push_instance(out: &mut String, instance: &TopologyInstance) {
    out.push('{');
    push_key(out, true, "name");
    push_str(out, &instance.name);
    push_key(out, false, "host");
    push_opt(out, instance.host.as_deref());
    push_key(out, false, "ports");
    push_ports(out, &instance.ports);
    out.push('}');
}

fn push_ports(out: &mut String, ports: &BTreeMap<String, TopologyPort>) {
    out.push('{');
    for (i, (name, port)) in ports.iter().enumerate() {
        push_key(out, i == 0, name);
        out.push('{');
        push_key(out, true, "external");
        push_str(out, &port.external);
        push_key(out, false, "internal");
        push_opt(out, port.internal.as_deref());
        out.push('}');
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_json_dumps() {
        assert_eq!(string("zk-kafka"), r#""zk-kafka""#);
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(string("\u{1}\u{1f}\u{7f}"), r#""\u0001\u001f\u007f""#);
        assert_eq!(string("café"), r#""caf\u00e9""#);
        assert_eq!(string("Ω€"), r#""\u03a9\u20ac""#);
        assert_eq!(string("🦀"), r#""\ud83e\udd80""#);
        assert_eq!(string(""), r#""""#);
    }

    #[test]
    fn lists_use_comma_space() {
        assert_eq!(string_list::<&str>(&[]), "[]");
        assert_eq!(string_list(&["a"]), r#"["a"]"#);
        assert_eq!(
            string_list(&["1.2.3.4:1", "é"]),
            r#"["1.2.3.4:1", "\u00e9"]"#
        );
    }

    #[test]
    fn topology_has_a_fixed_shape() {
        let mut ports = BTreeMap::new();
        ports.insert(
            "broker".to_owned(),
            TopologyPort {
                external: "9093".into(),
                internal: Some("9092".into()),
            },
        );
        ports.insert(
            "jmx".to_owned(),
            TopologyPort {
                external: "7000-7002".into(),
                internal: None,
            },
        );
        let mut services = BTreeMap::new();
        services.insert(
            "kafka".to_owned(),
            TopologyService {
                instances: vec![TopologyInstance {
                    name: "kafka-2".into(),
                    host: None,
                    ports,
                }],
            },
        );
        services.insert("empty".to_owned(), TopologyService { instances: vec![] });
        let t = Topology {
            environment_name: "local".into(),
            service_name: Some("kafka".into()),
            container_name: None,
            host_address: None,
            image: None,
            tag: None,
            services,
        };
        assert_eq!(
            topology(&t),
            concat!(
                r#"{"environment_name": "local", "service_name": "kafka", "#,
                r#""container_name": null, "host_address": null, "image": null, "tag": null, "#,
                r#""services": {"empty": {"instances": []}, "kafka": {"instances": ["#,
                r#"{"name": "kafka-2", "host": null, "ports": {"#,
                r#""broker": {"external": "9093", "internal": "9092"}, "#,
                r#""jmx": {"external": "7000-7002", "internal": null}}}]}}}"#
            )
        );
    }
}
