//! The end-of-play summary: what each container ended as, why the failed
//! ones failed (with their last log lines) and what was skipped; as text or
//! JSON (`--format json`).

use std::time::Duration;

use serde::Serialize;

use super::live::Row;
use super::{Paint, json, paint, short_duration};
use crate::execute::resources::{Swept, SweptOutcome};
use crate::progress::Phase;

/// How many log lines of a failed container the summary shows.
pub const FAILED_LOG_LINES: usize = 20;

/// How one container ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "lowercase")]
pub enum Outcome {
    /// Done (started, stopped, already up, ...).
    Done {
        /// What was done (`started`, `stopped`, `up for 3m2s`).
        detail: String,
    },
    /// Failed.
    Failed {
        /// Why.
        reason: String,
        /// Its last log lines (at most [`FAILED_LOG_LINES`]).
        logs: Vec<String>,
    },
    /// `upgrade`/`rollback`: the replacement failed and the old container runs again.
    #[serde(rename = "rolled_back")]
    RolledBack {
        /// Why the replacement failed.
        reason: String,
        /// The failed replacement's last log lines (at most [`FAILED_LOG_LINES`]).
        logs: Vec<String>,
    },
    /// Not attempted.
    Skipped {
        /// Why.
        reason: String,
    },
    /// The play ended (interrupted) before this container got a final state.
    Unfinished {
        /// The last state it reported.
        last: String,
    },
}

/// One container in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Container name.
    pub container: String,
    /// Its service.
    pub service: String,
    /// Its ship.
    pub ship: String,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A finished play.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// The command (`start`, `stop`, ...).
    pub action: String,
    /// Every container, in plan order.
    pub containers: Vec<Entry>,
    /// How long the play took, in seconds.
    pub elapsed_secs: f64,
}

impl Summary {
    /// The summary of the live view's rows.
    pub fn from_rows(action: &str, rows: &[Row], elapsed: Duration) -> Summary {
        let containers = rows
            .iter()
            .map(|r| Entry {
                container: r.container.clone(),
                service: r.service.clone(),
                ship: r.ship.clone(),
                outcome: match &r.phase {
                    Phase::Done { detail } => Outcome::Done {
                        detail: detail.clone(),
                    },
                    Phase::Failed { reason, logs } => Outcome::Failed {
                        reason: reason.clone(),
                        logs: last_lines(logs),
                    },
                    Phase::Skipped { reason } => Outcome::Skipped {
                        reason: reason.clone(),
                    },
                    Phase::RolledBack { reason, logs } => Outcome::RolledBack {
                        reason: reason.clone(),
                        logs: last_lines(logs),
                    },
                    other => Outcome::Unfinished {
                        last: super::live::phase_text(other),
                    },
                },
            })
            .collect();
        Summary {
            action: action.into(),
            containers,
            elapsed_secs: (elapsed.as_millis() as f64) / 1000.0,
        }
    }

    /// Whether every container ended done (the play's exit status is 0).
    pub fn ok(&self) -> bool {
        self.containers
            .iter()
            .all(|e| matches!(e.outcome, Outcome::Done { .. }))
    }

    fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.containers.iter().filter(|e| pred(&e.outcome)).count()
    }
}

fn last_lines(logs: &[String]) -> Vec<String> {
    logs[logs.len().saturating_sub(FAILED_LOG_LINES)..].to_vec()
}

/// The summary as text:
///
/// ```text
/// start: 2 done, 1 failed, 1 skipped in 12.3s
///   done     db-1   started
///   FAILED   web-1  check http failed: timed out after 30s
///            | last log line
///   skipped  app-1  web-1 failed
/// ```
pub fn summary_text(summary: &Summary, colour: bool) -> String {
    let done = summary.count(|o| matches!(o, Outcome::Done { .. }));
    let failed = summary.count(|o| matches!(o, Outcome::Failed { .. }));
    let skipped = summary.count(|o| matches!(o, Outcome::Skipped { .. }));
    let rolled_back = summary.count(|o| matches!(o, Outcome::RolledBack { .. }));
    let unfinished = summary.count(|o| matches!(o, Outcome::Unfinished { .. }));
    let mut counts = vec![format!("{done} done")];
    if failed > 0 {
        counts.push(format!("{failed} failed"));
    }
    if rolled_back > 0 {
        counts.push(format!("{rolled_back} rolled back"));
    }
    if skipped > 0 {
        counts.push(format!("{skipped} skipped"));
    }
    if unfinished > 0 {
        counts.push(format!("{unfinished} unfinished"));
    }
    let mut out = format!(
        "{}: {} in {}\n",
        summary.action,
        counts.join(", "),
        short_duration(Duration::from_secs_f64(summary.elapsed_secs.max(0.0)))
    );
    let width = summary
        .containers
        .iter()
        .map(|e| super::display_width(&e.container))
        .max()
        .unwrap_or(0);
    for e in &summary.containers {
        let (label, paint_as, text, logs): (&str, Paint, String, &[String]) = match &e.outcome {
            Outcome::Done { detail } => ("done", Paint::Green, detail.clone(), &[]),
            Outcome::Failed { reason, logs } => ("FAILED", Paint::Red, reason.clone(), logs),
            Outcome::RolledBack { reason, logs } => ("REVERTED", Paint::Red, reason.clone(), logs),
            Outcome::Skipped { reason } => ("skipped", Paint::Yellow, reason.clone(), &[]),
            Outcome::Unfinished { last } => {
                ("unfinished", Paint::Yellow, format!("was {last}"), &[])
            }
        };
        let pad = " ".repeat(10usize.saturating_sub(label.len()));
        let name_pad = " ".repeat(width.saturating_sub(super::display_width(&e.container)));
        let mut reason_lines = text.lines();
        let first = reason_lines.next().unwrap_or("");
        out.push_str(
            format!(
                "  {}{pad} {}{name_pad}  {first}",
                paint(label, paint_as, colour),
                e.container
            )
            .trim_end(),
        );
        out.push('\n');
        let indent = " ".repeat(2 + 10 + 1 + width + 2);
        for more in reason_lines {
            out.push_str(format!("{indent}{more}").trim_end());
            out.push('\n');
        }
        for l in logs {
            out.push_str(&format!("{indent}| {l}\n"));
        }
    }
    out
}

/// The summary as JSON: `ok` says whether everything ended done (and every
/// network and volume `clean` swept went), `swept` what `clean --networks` /
/// `--volumes` did, when it did something (README § JSON output).
pub fn summary_json(summary: &Summary, swept: &[Swept]) -> String {
    #[derive(Serialize)]
    struct SweptJson<'a> {
        ship: &'a str,
        kind: &'a str,
        name: &'a str,
        #[serde(flatten)]
        outcome: &'a SweptOutcome,
    }
    #[derive(Serialize)]
    struct WithOk<'a> {
        ok: bool,
        #[serde(flatten)]
        summary: &'a Summary,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        swept: Vec<SweptJson<'a>>,
    }
    let failed = swept
        .iter()
        .any(|s| matches!(s.outcome, SweptOutcome::Failed { .. }));
    json(&WithOk {
        ok: summary.ok() && !failed,
        summary,
        swept: swept
            .iter()
            .map(|s| SweptJson {
                ship: &s.ship,
                kind: s.kind,
                name: &s.name,
                outcome: &s.outcome,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, phase: Phase) -> Row {
        let mut r = Row::new(name, name.split('-').next().unwrap_or(name), "main");
        r.phase = phase;
        r
    }

    fn sample() -> Summary {
        let rows = [
            row(
                "db-1",
                Phase::Done {
                    detail: "started".into(),
                },
            ),
            row(
                "web-1",
                Phase::Failed {
                    reason: "check http failed: timed out after 30s".into(),
                    logs: (1..=22).map(|i| format!("line {i}")).collect(),
                },
            ),
            row(
                "app-1",
                Phase::Skipped {
                    reason: "web-1 failed".into(),
                },
            ),
        ];
        Summary::from_rows("start", &rows, Duration::from_millis(12_345))
    }

    #[test]
    fn text_lists_failures_with_their_last_twenty_log_lines() {
        let s = sample();
        assert!(!s.ok());
        let text = summary_text(&s, false);
        let mut expected = String::from(
            "start: 1 done, 1 failed, 1 skipped in 12.3s\n\
             \x20 done       db-1   started\n\
             \x20 FAILED     web-1  check http failed: timed out after 30s\n",
        );
        for i in 3..=22 {
            expected.push_str(&format!("                    | line {i}\n"));
        }
        expected.push_str("  skipped    app-1  web-1 failed\n");
        assert_eq!(text, expected);
        assert!(summary_text(&s, true).contains("\x1b[31mFAILED\x1b[0m"));
    }

    #[test]
    fn json_has_one_object_per_container() {
        let s = sample();
        let v: serde_json::Value = serde_json::from_str(&summary_json(&s, &[])).unwrap();
        assert_eq!(v["ok"], false);
        assert!(v.get("swept").is_none(), "{v}");
        assert_eq!(v["action"], "start");
        assert_eq!(v["elapsed_secs"], 12.345);
        assert_eq!(
            v["containers"][0],
            serde_json::json!({"container": "db-1", "service": "db", "ship": "main",
                "result": "done", "detail": "started"})
        );
        assert_eq!(v["containers"][1]["result"], "failed");
        assert_eq!(v["containers"][1]["logs"].as_array().unwrap().len(), 20);
        assert_eq!(v["containers"][1]["logs"][0], "line 3");
        assert_eq!(v["containers"][2]["reason"], "web-1 failed");
    }

    #[test]
    fn json_says_what_clean_swept_and_a_failed_sweep_is_not_ok() {
        let s = Summary::from_rows(
            "clean",
            &[row(
                "db-1",
                Phase::Done {
                    detail: "removed".into(),
                },
            )],
            Duration::from_secs(1),
        );
        let swept = |name: &str, outcome| Swept {
            ship: "main".into(),
            kind: "network",
            name: name.into(),
            outcome,
        };
        let removed = [swept("net", SweptOutcome::Removed)];
        let v: serde_json::Value = serde_json::from_str(&summary_json(&s, &removed)).unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(
            v["swept"],
            serde_json::json!([{"ship": "main", "kind": "network", "name": "net", "outcome": "removed"}])
        );
        let failed = [
            swept(
                "other",
                SweptOutcome::InUse {
                    users: vec!["db-2".into()],
                },
            ),
            swept(
                "",
                SweptOutcome::Failed {
                    reason: "down".into(),
                },
            ),
        ];
        let v: serde_json::Value = serde_json::from_str(&summary_json(&s, &failed)).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["swept"][0]["users"], serde_json::json!(["db-2"]));
        assert_eq!(v["swept"][1]["reason"], "down");
    }

    #[test]
    fn a_rolled_back_container_is_reverted_with_its_logs() {
        let rows = [
            row(
                "web-1",
                Phase::RolledBack {
                    reason: "running checks failed".into(),
                    logs: vec!["serving error".into()],
                },
            ),
            row(
                "web-2",
                Phase::Skipped {
                    reason: "not touched: the upgrade stopped after web-1 failed".into(),
                },
            ),
        ];
        let s = Summary::from_rows("upgrade", &rows, Duration::from_secs(2));
        assert!(!s.ok());
        assert_eq!(
            summary_text(&s, false),
            "upgrade: 0 done, 1 rolled back, 1 skipped in 2.0s\n\
             \x20 REVERTED   web-1  running checks failed\n\
             \x20                   | serving error\n\
             \x20 skipped    web-2  not touched: the upgrade stopped after web-1 failed\n"
        );
        let v: serde_json::Value = serde_json::from_str(&summary_json(&s, &[])).unwrap();
        assert_eq!(v["containers"][0]["result"], "rolled_back");
        assert_eq!(v["containers"][0]["logs"][0], "serving error");
    }

    #[test]
    fn an_interrupted_play_shows_unfinished_containers() {
        let s = Summary::from_rows(
            "stop",
            &[row("db-1", Phase::Stopping)],
            Duration::from_secs(1),
        );
        assert!(!s.ok());
        assert_eq!(
            summary_text(&s, false),
            "stop: 0 done, 1 unfinished in 1.0s\n  unfinished db-1  was stopping\n"
        );
    }
}
