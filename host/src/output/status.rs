//! `maestro status`: one row per container, as text (a table) or JSON.

use std::time::Duration;

use serde::Serialize;

use super::{Paint, json, paint, uptime};

/// What `status` found for one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Running, for this long.
    Running {
        /// Seconds since it started.
        #[serde(rename = "uptime_secs", serialize_with = "secs")]
        uptime: Duration,
    },
    /// Exists but is not running; how long since it stopped (`None`: never
    /// ran, or the time is unknown).
    Down {
        /// Seconds since it stopped.
        #[serde(rename = "down_secs", serialize_with = "opt_secs")]
        since: Option<Duration>,
        /// Its exit code, once it ran.
        exit_code: Option<i64>,
    },
    /// No such container on its ship.
    Absent,
    /// Its ship could not be asked.
    HostDown {
        /// Why.
        error: String,
    },
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_u64(d.as_secs()),
        None => s.serialize_none(),
    }
}

impl State {
    /// `running for 3m2s`, `down for 5s`, `down`, `absent`, `host down`.
    pub fn text(&self) -> String {
        match self {
            State::Running { uptime: u } => format!("running for {}", uptime(*u)),
            State::Down { since: Some(d), .. } => format!("down for {}", uptime(*d)),
            State::Down { since: None, .. } => "down".into(),
            State::Absent => "absent".into(),
            State::HostDown { .. } => "host down".into(),
        }
    }

    fn paint(&self) -> Paint {
        match self {
            State::Running { .. } => Paint::Green,
            State::Absent => Paint::Yellow,
            State::Down { .. } | State::HostDown { .. } => Paint::Red,
        }
    }
}

/// A published port and whether it answered a TCP connection (`-F`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortState {
    /// The port's name in the configuration.
    pub name: String,
    /// The published port as configured (`2181/tcp`, `8000-8010/tcp`).
    pub external: String,
    /// Whether a TCP connection to the ship's ip on that port succeeded
    /// (always false for udp, as in MaestroNG).
    pub up: bool,
}

/// One container's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusRow {
    /// The instance (container) name.
    pub instance: String,
    /// Its service.
    pub service: String,
    /// Its ship's name.
    pub ship: String,
    /// Its ship's `ip`.
    pub ship_ip: String,
    /// The container's full id, when it exists.
    pub container_id: Option<String>,
    /// What was found.
    #[serde(flatten)]
    pub state: State,
    /// The image: the container's when it exists, else the configured one
    /// (`-F` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Published ports (`-F` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<PortState>>,
}

impl StatusRow {
    /// Whether this container counts as "up" for the exit status.
    pub fn running(&self) -> bool {
        matches!(self.state, State::Running { .. })
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
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, row) in table.iter().enumerate() {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[i] - cell.chars().count());
            let shown = if n > 0 && i == 4 {
                paint(cell, rows[n - 1].state.paint(), colour)
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
