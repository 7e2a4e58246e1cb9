//! `maestro status`: one row per container, as text (a table) or JSON.

use super::{Paint, json, paint};
pub use crate::observe::status::{PortState, State, StatusRow};

/// The colour of a state in the table.
fn state_paint(state: &State) -> Paint {
    match state {
        State::Running { .. } => Paint::Green,
        State::Absent => Paint::Yellow,
        State::Down { .. } | State::HostDown { .. } => Paint::Red,
    }
}

/// Length of a short container id (as `docker ps` shows it).
pub const SHORT_ID: usize = 12;

/// The status table:
///
/// ```text
/// INSTANCE  SERVICE  SHIP   CONTAINER     STATE
/// zk-1      zk       main   0123456789ab  running for 3m2s
/// web-1     web      ship2  -             host down
/// ```
///
/// `show_hosts` shows the ship's ip instead of its name. Rows with an image
/// or ports (`-F`) add an IMAGE column and one line per port below.
pub fn status_text(rows: &[StatusRow], show_hosts: bool, colour: bool) -> String {
    let full = rows.iter().any(|r| r.image.is_some() || r.ports.is_some());
    let mut table: Vec<Vec<String>> = vec![
        ["INSTANCE", "SERVICE", "SHIP", "CONTAINER", "STATE"]
            .map(String::from)
            .to_vec(),
    ];
    if full {
        table[0].push("IMAGE".into());
    }
    for r in rows {
        let mut cells = vec![
            r.instance.clone(),
            r.service.clone(),
            if show_hosts {
                r.ship_ip.clone()
            } else {
                r.ship.clone()
            },
            r.container_id
                .as_deref()
                .map_or("-".into(), |id| id.chars().take(SHORT_ID).collect()),
            r.state.text(),
        ];
        if full {
            cells.push(r.image.clone().unwrap_or_else(|| "-".into()));
        }
        table.push(cells);
    }
    let columns = table[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            table
                .iter()
                .map(|row| super::display_width(&row[i]))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, row) in table.iter().enumerate() {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[i] - super::display_width(cell));
            let shown = if n > 0 && i == 4 {
                paint(cell, state_paint(&rows[n - 1].state), colour)
            } else {
                cell.clone()
            };
            line.push_str(&shown);
            if i + 1 < columns {
                line.push_str(&pad);
                line.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if let Some(aside) = n.checked_sub(1).and_then(|i| rows[i].left_aside.as_ref()) {
            out.push_str(&format!(
                "  {aside}: kept aside by an interrupted upgrade (the next upgrade or start \
                 resolves it)\n"
            ));
        }
        if n > 0 {
            for p in rows[n - 1].ports.iter().flatten() {
                let word = if p.up { "up" } else { "down" };
                let word = paint(word, if p.up { Paint::Green } else { Paint::Red }, colour);
                out.push_str(&format!("    port {} {}: {word}\n", p.name, p.external));
            }
        }
    }
    out
}

/// The rows as a JSON array.
pub fn status_json(rows: &[StatusRow]) -> String {
    json(&rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn wide_characters_keep_the_columns_aligned() {
        let mut rows = rows();
        rows[0].instance = "数据库-1".into(); // 8 columns on a terminal, 5 characters
        let text = status_text(&rows, false, false);
        // The second column starts at the same terminal column on every line.
        let second = |line: &str| {
            let first = line.split_whitespace().next().unwrap();
            let rest = &line[first.len()..];
            crate::output::display_width(first) + rest.len() - rest.trim_start().len()
        };
        let lines: Vec<&str> = text.lines().collect();
        for line in &lines {
            assert_eq!(second(line), second(lines[0]), "{text}");
        }
        assert_eq!(second(lines[0]), 10, "{text}");
    }

    fn rows() -> Vec<StatusRow> {
        vec![
            StatusRow {
                instance: "zk-1".into(),
                service: "zookeeper".into(),
                ship: "main".into(),
                ship_ip: "127.0.0.1".into(),
                container_id: Some("0123456789abcdef".into()),
                state: State::Running {
                    uptime: Duration::from_secs(182),
                },
                image: None,
                ports: None,
                left_aside: None,
            },
            StatusRow {
                instance: "web-1".into(),
                service: "web".into(),
                ship: "ship2".into(),
                ship_ip: "10.99.0.2".into(),
                container_id: None,
                state: State::HostDown {
                    error: "connection refused".into(),
                },
                image: None,
                ports: None,
                left_aside: None,
            },
            StatusRow {
                instance: "web-2".into(),
                service: "web".into(),
                ship: "main".into(),
                ship_ip: "127.0.0.1".into(),
                container_id: Some("fedcba9876543210".into()),
                state: State::Down {
                    since: Some(Duration::from_secs(5)),
                    exit_code: Some(137),
                },
                image: None,
                ports: None,
                left_aside: None,
            },
            StatusRow {
                instance: "app-1".into(),
                service: "app".into(),
                ship: "main".into(),
                ship_ip: "127.0.0.1".into(),
                container_id: None,
                state: State::Absent,
                image: None,
                ports: None,
                left_aside: None,
            },
        ]
    }

    #[test]
    fn table() {
        assert_eq!(
            status_text(&rows(), false, false),
            "\
INSTANCE  SERVICE    SHIP   CONTAINER     STATE
zk-1      zookeeper  main   0123456789ab  running for 3m2s
web-1     web        ship2  -             host down
web-2     web        main   fedcba987654  down for 5s
app-1     app        main   -             absent
"
        );
        let hosts = status_text(&rows(), true, true);
        assert!(
            hosts.contains(
                "zk-1      zookeeper  127.0.0.1  0123456789ab  \x1b[32mrunning for 3m2s\x1b[0m\n"
            ),
            "{hosts}"
        );
        assert!(hosts.contains("\x1b[31mhost down\x1b[0m"), "{hosts}");
    }

    #[test]
    fn a_container_left_aside_is_shown_under_its_instance() {
        let mut r = rows();
        r[2].left_aside = Some("web-2.previous".into());
        let text = status_text(&r, false, false);
        assert!(
            text.contains(
                "web-2     web        main   fedcba987654  down for 5s\n  web-2.previous: kept \
                 aside by an interrupted upgrade"
            ),
            "{text}"
        );
    }

    #[test]
    fn full_table_adds_image_and_ports() {
        let mut r = rows();
        r.truncate(1);
        r[0].image = Some("maestro-test/busybox:latest".into());
        r[0].ports = Some(vec![
            PortState {
                name: "client".into(),
                external: "2181/tcp".into(),
                up: true,
            },
            PortState {
                name: "gossip".into(),
                external: "5000/udp".into(),
                up: false,
            },
        ]);
        assert_eq!(
            status_text(&r, false, false),
            "\
INSTANCE  SERVICE    SHIP  CONTAINER     STATE             IMAGE
zk-1      zookeeper  main  0123456789ab  running for 3m2s  maestro-test/busybox:latest
    port client 2181/tcp: up
    port gossip 5000/udp: down
"
        );
    }

    #[test]
    fn json_rows() {
        let v: serde_json::Value = serde_json::from_str(&status_json(&rows())).unwrap();
        assert_eq!(
            v[0],
            serde_json::json!({"instance": "zk-1", "service": "zookeeper", "ship": "main",
                "ship_ip": "127.0.0.1", "container_id": "0123456789abcdef",
                "state": "running", "uptime_secs": 182})
        );
        assert_eq!(v[1]["state"], "host_down");
        assert_eq!(v[1]["error"], "connection refused");
        assert_eq!(v[2]["state"], "down");
        assert_eq!(v[2]["down_secs"], 5);
        assert_eq!(v[2]["exit_code"], 137);
        assert_eq!(v[3]["state"], "absent");
        assert_eq!(v[3]["container_id"], serde_json::Value::Null);
    }
}
