//! `maestro logs`: the output of one or several containers, on any ships.
//!
//! Without `-F` each container's log (or its last `-n` lines) is printed in
//! turn. With `-F` every container is followed at the same time and lines
//! are printed as they come; when a container stops, its follower waits for
//! it to run again (restarted, or removed and created anew under the same
//! name, as `maestro restart` does) and attaches again, until Ctrl-C.
//! MaestroNG 0.8.3 crashes at that point.

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::time::parse_rfc3339;
use crate::config::model::Environment;
use crate::connect::connect_all;
use crate::docker::{LogTail, Ship};

/// How often a follower asks whether a stopped container runs again.
pub const RESPAWN_POLL: Duration = Duration::from_millis(500);

/// What the followers send to the printer.
enum Msg {
    /// A line of a container's output.
    Line(String, String),
    /// A remark about a container, for standard error.
    Notice(String, String),
}

/// What `logs` ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Everything was shown (or following was interrupted by Ctrl-C).
    Ok,
    /// Some container could not be shown.
    Failed,
}

/// Where to write: the caller's sinks for output lines and remarks, so this
/// module does no terminal writing (nor formatting) of its own.
pub trait Sink {
    /// Writes one line of `container`'s output; `false` when the reader has
    /// gone (closed pipe).
    fn line(&mut self, container: &str, text: &str) -> bool;
    /// Writes a remark (standard error).
    fn notice(&mut self, text: &str);
    /// Writes an error (standard error).
    fn error(&mut self, text: &str);
}

/// Shows the logs of `containers` (instance names, at least one). Following
/// ends when `shutdown` completes (the caller's Ctrl-C), as when every log ended.
pub async fn logs(
    env: &Environment,
    containers: &[String],
    follow: bool,
    tail: LogTail,
    sink: &mut dyn Sink,
    shutdown: impl Future<Output = ()>,
) -> Ended {
    let placed: Vec<(String, String)> = containers
        .iter()
        .filter_map(|c| env.instance(c).map(|i| (i.name.clone(), i.ship.clone())))
        .collect();
    let ships = connect_all(env, placed.iter().map(|(_, s)| s.as_str())).await;
    let mut ended = Ended::Ok;
    if !follow {
        for (name, ship) in &placed {
            let ship = match ships.get(ship) {
                Ok(s) => s,
                Err(e) => {
                    sink.error(&format!("logs of {name}: {e}"));
                    ended = Ended::Failed;
                    continue;
                }
            };
            match ship.inspect(name).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    sink.error(&not_there(name, ship));
                    ended = Ended::Failed;
                    continue;
                }
                Err(e) => {
                    sink.error(&e.to_string());
                    ended = Ended::Failed;
                    continue;
                }
            }
            match ship.logs(name, tail).await {
                Ok(lines) => {
                    for l in lines {
                        if !sink.line(name, &l.text) {
                            return ended;
                        }
                    }
                }
                Err(e) => {
                    sink.error(&e.to_string());
                    ended = Ended::Failed;
                }
            }
        }
        return ended;
    }

    let (tx, mut rx) = mpsc::channel::<Msg>(1024);
    let mut running = 0usize;
    for (name, ship) in &placed {
        match ships.get(ship) {
            Ok(ship) => {
                running += 1;
                tokio::spawn(follow_one(ship.clone(), name.clone(), tail, tx.clone()));
            }
            Err(e) => {
                sink.error(&format!("logs of {name}: {e}"));
                ended = Ended::Failed;
            }
        }
    }
    drop(tx);
    if running == 0 {
        return ended;
    }
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return ended,
            msg = rx.recv() => match msg {
                None => return ended,
                Some(Msg::Line(name, text)) => {
                    if !sink.line(&name, &text) {
                        return ended;
                    }
                }
                Some(Msg::Notice(name, text)) => sink.notice(&format!("{name}: {text}")),
            },
        }
    }
}

fn not_there(name: &str, ship: &Ship) -> String {
    format!("container {name} does not exist on ship {}", ship.name())
}

/// Follows one container across its restarts until the printer goes away.
async fn follow_one(ship: Ship, name: String, tail: LogTail, tx: mpsc::Sender<Msg>) {
    // The run last followed: container id and start time.
    let mut last: Option<(String, Option<String>)> = None;
    let mut said_waiting = false;
    let mut said_unreachable = false;
    loop {
        let info = match ship.inspect(&name).await {
            Ok(info) => {
                said_unreachable = false;
                info
            }
            Err(e) => {
                if !said_unreachable {
                    let text = format!("{e}; trying again");
                    if tx.send(Msg::Notice(name.clone(), text)).await.is_err() {
                        return;
                    }
                    said_unreachable = true;
                }
                tokio::time::sleep(RESPAWN_POLL).await;
                continue;
            }
        };
        let Some(info) = info else {
            if !said_waiting {
                let text = format!(
                    "does not exist on ship {}; waiting for it to be created",
                    ship.name()
                );
                if tx.send(Msg::Notice(name.clone(), text)).await.is_err() {
                    return;
                }
                said_waiting = true;
            }
            tokio::time::sleep(RESPAWN_POLL).await;
            continue;
        };
        let this_run = (info.id.clone(), info.state.started_at.clone());
        let stream = match &last {
            // First attach: the history asked for, then live.
            None => ship.follow_logs(&name, tail).boxed(),
            // The same run, already shown: wait for the next one.
            Some(seen) if *seen == this_run || !info.state.running => {
                tokio::time::sleep(RESPAWN_POLL).await;
                if tx.is_closed() {
                    return;
                }
                continue;
            }
            // The same container started again: only what it wrote since.
            Some((id, _)) if *id == info.id => {
                let since = info
                    .state
                    .started_at
                    .as_deref()
                    .and_then(parse_rfc3339)
                    .unwrap_or(0);
                ship.follow_logs_since(&name, since).boxed()
            }
            // A new container of that name: all of it.
            Some(_) => ship.follow_logs(&name, LogTail::All).boxed(),
        };
        if last.is_some() {
            let text = "started again; following it".to_owned();
            if tx.send(Msg::Notice(name.clone(), text)).await.is_err() {
                return;
            }
        }
        said_waiting = false;
        last = Some(this_run);
        let mut stream = stream;
        while let Some(line) = stream.next().await {
            let msg = match line {
                Ok(l) => Msg::Line(name.clone(), l.text),
                Err(e) => Msg::Notice(name.clone(), e.to_string()),
            };
            if tx.send(msg).await.is_err() {
                return;
            }
        }
        let text = "stopped; waiting for it to start again (Ctrl-C to quit)".to_owned();
        if tx.send(Msg::Notice(name.clone(), text)).await.is_err() {
            return;
        }
    }
}
