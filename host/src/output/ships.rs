//! `maestro ships`: one line (or JSON object) per ship.

use crate::ships::ShipReport;

/// A table: ship, transport, address, state, engine and API versions, and the
/// environment's containers found on it; the reasons of unreachable ships follow.
pub fn ships_text(reports: &[ShipReport]) -> String {
    let header = [
        "SHIP",
        "TRANSPORT",
        "ADDRESS",
        "STATE",
        "ENGINE",
        "API",
        "CONTAINERS",
    ];
    let rows: Vec<[String; 7]> = reports
        .iter()
        .map(|r| {
            let containers = if r.reachable {
                let names: Vec<&str> = r.containers.iter().map(|c| c.name.as_str()).collect();
                if names.is_empty() {
                    format!("0/{}", r.expected)
                } else {
                    format!("{}/{}: {}", names.len(), r.expected, names.join(", "))
                }
            } else {
                format!("?/{}", r.expected)
            };
            [
                r.name.clone(),
                r.transport.to_owned(),
                r.address.clone(),
                if r.reachable { "up" } else { "DOWN" }.to_owned(),
                match (r.engine, &r.engine_version) {
                    (Some(engine), Some(version)) => format!("{engine} {version}"),
                    (None, Some(version)) => version.clone(),
                    (Some(engine), None) => engine.to_owned(),
                    (None, None) => "-".into(),
                },
                r.api_version.clone().unwrap_or_else(|| "-".into()),
                containers,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(super::display_width(cell));
        }
    }
    let line = |cells: &[&str]| -> String {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(w - super::display_width(cell) + 2));
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = line(&header);
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        out.push_str(&line(&cells));
    }
    let failures: Vec<&ShipReport> = reports.iter().filter(|r| r.error.is_some()).collect();
    if !failures.is_empty() {
        out.push('\n');
        for r in failures {
            // The reason names the ship already ("ship NAME: ...").
            out.push_str(r.error.as_deref().unwrap_or_default());
            out.push('\n');
        }
    }
    out
}

/// `{"ships": [...], "all_reachable": bool}`, one object per ship in YAML order.
pub fn ships_json(reports: &[ShipReport]) -> String {
    let ships: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": r.name,
                "transport": r.transport,
                "address": r.address,
                "reachable": r.reachable,
                "error": r.error,
                "engine": r.engine,
                "engine_version": r.engine_version,
                "api_version": r.api_version,
                "expected_containers": r.expected,
                "containers": r.containers.iter().map(|c| serde_json::json!({
                    "name": c.name,
                    "state": c.state,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let all = reports.iter().all(|r| r.reachable);
    let mut text = serde_json::to_string_pretty(&serde_json::json!({
        "ships": ships,
        "all_reachable": all,
    }))
    .unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ships::ShipContainer;

    fn reports() -> Vec<ShipReport> {
        vec![
            ShipReport {
                name: "local".into(),
                transport: "unix",
                address: "unix:///var/run/docker.sock".into(),
                reachable: true,
                error: None,
                engine: Some("Docker"),
                engine_version: Some("20.10.24".into()),
                api_version: Some("1.41".into()),
                expected: 2,
                containers: vec![ShipContainer {
                    name: "web-1".into(),
                    state: "running".into(),
                }],
            },
            ShipReport {
                name: "far".into(),
                transport: "ssh",
                address: "ssh://ops@10.0.0.9:22 -> 127.0.0.1:2375".into(),
                reachable: false,
                error: Some("ship far: SSH tunnel failed: Permission denied".into()),
                engine: None,
                engine_version: None,
                api_version: None,
                expected: 1,
                containers: vec![],
            },
        ]
    }

    #[test]
    fn text_lists_every_ship_and_the_reasons() {
        let text = ships_text(&reports());
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("SHIP"), "{text}");
        assert!(
            lines[1].contains("unix")
                && lines[1].contains("up")
                && lines[1].contains("Docker 20.10.24")
                && lines[1].contains("1/2: web-1"),
            "{text}"
        );
        assert!(
            lines[2].contains("DOWN") && lines[2].contains("?/1"),
            "{text}"
        );
        assert!(
            text.ends_with("\nship far: SSH tunnel failed: Permission denied\n"),
            "{text}"
        );
    }

    #[test]
    fn json_has_one_object_per_ship() {
        let v: serde_json::Value = serde_json::from_str(&ships_json(&reports())).unwrap();
        assert_eq!(v["all_reachable"], false);
        assert_eq!(v["ships"][0]["containers"][0]["name"], "web-1");
        assert_eq!(v["ships"][0]["api_version"], "1.41");
        assert_eq!(v["ships"][0]["engine"], "Docker");
        assert_eq!(v["ships"][1]["engine"], serde_json::Value::Null);
        assert_eq!(v["ships"][1]["reachable"], false);
        assert_eq!(v["ships"][1]["transport"], "ssh");
    }
}
