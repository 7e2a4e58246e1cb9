//! The audit trail: the auditors of `audit:` told about every play, as
//! MaestroNG 0.8.3 tells them (host/COMPAT.md § Audit trail).
//!
//! Plays `pull`, `start`, `stop`, `kill`, `restart` and `clean` are audited
//! (`status` is not): `action` before anything is done, then `success` or
//! `error`, all at level `info`, with every container of the play; and the
//! same three per container (task) at level `debug`, around its step. An
//! auditor reports an event when its `level` lets it through; errors are
//! always reported (the `log` auditor writes them at ERROR).
//!
//! Failures, as in 0.8.3's `MultiplexAuditor`: an auditor failing in `action`
//! stops the others and the caller (the play does not run, or the container's
//! step fails); a failure in `success` or `error` is noted and the others go
//! on. `ignore_errors: true` turns any failure of that auditor into a note.
//! The notes are printed as warnings once the live view is done (the caller's
//! business), so that they never garble it.
//!
//! Which events each type reports, as in 0.8.3: `log` and `slack` all three;
//! `http` only `action`; `exec` only a play's `success`; `hipchat` none: the
//! service was shut down in 2019, so a warning says so once per run instead.

pub mod http;
pub mod message;

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::config::audit::{Auditor, AuditorKind, ERROR};
use crate::config::model::Environment;
use message::{Fill, LocalTime, Subject, What};

pub use crate::config::audit::{DEBUG, INFO};

/// Slack's Web API method 0.8.3 (through slacker) posts to.
pub const SLACK_POST_MESSAGE: &str = "https://slack.com/api/chat.postMessage";

/// slacker's request timeout.
const SLACK_TIMEOUT: Duration = Duration::from_secs(10);

/// An auditor that failed in `action` and is not `ignore_errors`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{label} failed: {reason}")]
pub struct ActionFailed {
    /// `auditor #N (TYPE)`.
    pub label: String,
    /// Why.
    pub reason: String,
}

/// The auditors of one run, and what they have to say afterwards.
#[derive(Debug)]
pub struct Audit {
    auditors: Vec<Auditor>,
    who: String,
    /// Every secret of the environment, scrubbed from whatever is sent.
    secrets: Vec<String>,
    /// Send the `exec` scripts' standard output to standard error (JSON output).
    script_stdout_to_stderr: bool,
    /// Where Slack is: [`SLACK_POST_MESSAGE`] (another address in unit tests only).
    slack_url: String,
    log_lock: Mutex<()>,
    hipchat_told: AtomicBool,
    notes: Mutex<Vec<String>>,
}

/// Which of the three events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event<'a> {
    Action,
    Success,
    Error(Option<&'a str>),
}

impl Audit {
    /// The auditors of `env`, or `None` when it has none.
    pub fn new(env: &Environment, script_stdout_to_stderr: bool) -> Option<Audit> {
        if env.audit.is_empty() {
            return None;
        }
        let mut secrets: Vec<String> = env
            .registries
            .iter()
            .filter_map(|r| r.password.clone())
            .collect();
        for a in &env.audit {
            match &a.kind {
                AuditorKind::Slack { token, .. } | AuditorKind::Hipchat { token, .. } => {
                    secrets.push(token.0.clone())
                }
                AuditorKind::Http {
                    headers,
                    credentials,
                    ..
                } => {
                    secrets.extend(headers.iter().map(|h| h.value.0.clone()));
                    if let Some(c) = credentials {
                        secrets.push(message::base64(c.0.as_bytes()));
                        secrets.extend(c.0.split_once(':').map(|(_, p)| p.to_owned()));
                        secrets.push(c.0.clone());
                    }
                }
                _ => {}
            }
        }
        secrets.retain(|s| s.len() >= 4);
        Some(Audit {
            auditors: env.audit.clone(),
            who: who(),
            secrets,
            script_stdout_to_stderr,
            slack_url: SLACK_POST_MESSAGE.into(),
            log_lock: Mutex::new(()),
            hipchat_told: AtomicBool::new(false),
            notes: Mutex::new(Vec::new()),
        })
    }

    /// The same, posting Slack messages to `url`: tests only (a local
    /// receiver), as 0.8.3 has no setting for Slack's address.
    #[cfg(test)]
    pub fn with_slack_url(mut self, url: &str) -> Audit {
        self.slack_url = url.to_owned();
        self
    }

    /// The user named in messages (`{who}`): 0.8.3's `getpass.getuser()`.
    pub fn who(&self) -> &str {
        &self.who
    }

    /// The notes so far (failures passed over, HipChat), emptied; a note
    /// repeated (the same failure for every container) is given once, counted.
    pub fn take_notes(&self) -> Vec<String> {
        let notes = std::mem::take(&mut *self.notes.lock().unwrap_or_else(|p| p.into_inner()));
        let mut counted: Vec<(String, usize)> = Vec::new();
        for note in notes {
            match counted.iter_mut().find(|(n, _)| *n == note) {
                Some((_, count)) => *count += 1,
                None => counted.push((note, 1)),
            }
        }
        counted
            .into_iter()
            .map(|(note, count)| match count {
                1 => note,
                n => format!("{note} ({n} times)"),
            })
            .collect()
    }

    fn note(&self, text: String) {
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(text);
    }

    /// Before a play (`level` [`INFO`]) or a container's step ([`DEBUG`]).
    pub async fn action(
        &self,
        level: u32,
        what: What<'_>,
        action: &str,
    ) -> Result<(), ActionFailed> {
        for a in &self.auditors {
            if let Err(reason) = self.one(a, level, Event::Action, what, action).await {
                let reason = self.scrub(&reason);
                if a.ignore_errors {
                    self.note(format!("audit: {} failed (ignored): {reason}", a.label()));
                } else {
                    return Err(ActionFailed {
                        label: a.label(),
                        reason,
                    });
                }
            }
        }
        Ok(())
    }

    /// After a play or step that succeeded.
    pub async fn success(&self, level: u32, what: What<'_>, action: &str) {
        self.all(level, Event::Success, what, action).await
    }

    /// After a play or step that failed, with the reason.
    pub async fn error(&self, level: u32, what: What<'_>, action: &str, message: Option<&str>) {
        let message = message.map(|m| self.scrub(m));
        self.all(level, Event::Error(message.as_deref()), what, action)
            .await
    }

    async fn all(&self, level: u32, event: Event<'_>, what: What<'_>, action: &str) {
        for a in &self.auditors {
            if let Err(reason) = self.one(a, level, event, what, action).await {
                let reason = self.scrub(&reason);
                let ignored = if a.ignore_errors { " (ignored)" } else { "" };
                self.note(format!("audit: {} failed{ignored}: {reason}", a.label()));
            }
        }
    }

    /// An `http` auditor told about a play's start: its webhook, with the payload.
    async fn webhook(&self, a: &Auditor, what: What<'_>, action: &str) -> Result<(), String> {
        let AuditorKind::Http {
            endpoint,
            credentials,
            method,
            headers,
            payload,
            timeout_secs,
        } = &a.kind
        else {
            return Ok(());
        };
        let names = what.names();
        let text = message::action_text(&what.python_str(), action, &self.who);
        let body = message::http_body(
            payload,
            &Fill {
                what: &names,
                action,
                who: &self.who,
                message: &text,
            },
        );
        let mut hs = vec![(
            "Content-Type".to_owned(),
            "application/json; charset=utf-8".to_owned(),
        )];
        hs.push((
            "User-Agent".into(),
            format!("maestro/{}", env!("CARGO_PKG_VERSION")),
        ));
        hs.extend(headers.iter().map(|h| (h.name.clone(), h.value.0.clone())));
        if let Some(c) = credentials {
            // As requests does: credentials in the URL win over a header.
            hs.push((
                "Authorization".into(),
                format!("Basic {}", message::base64(c.0.as_bytes())),
            ));
        }
        let response = http::send(
            http::Request {
                method: method.as_str(),
                url: endpoint.0.clone(),
                headers: hs,
                body: self.scrub(&body).into_bytes(),
            },
            Duration::from_secs_f64(*timeout_secs),
        )
        .await
        .map_err(|e| format!("{} {}: {e}", method.as_str(), endpoint.shown()))?;
        // 0.8.3 never looks at the status; a refusal is worth a note all the same.
        if !(200..300).contains(&response.status) {
            self.note(format!(
                "audit: {}: {} {} answered HTTP {}",
                a.label(),
                method.as_str(),
                endpoint.shown(),
                response.status
            ));
        }
        Ok(())
    }

    /// A `slack` auditor told about `event`: a message to its channel.
    async fn slack(
        &self,
        a: &Auditor,
        passes: bool,
        event: Event<'_>,
        what: What<'_>,
        action: &str,
    ) -> Result<(), String> {
        let AuditorKind::Slack {
            name,
            channel,
            token,
            icon,
        } = &a.kind
        else {
            return Ok(());
        };
        let (text, colour, error) = match event {
            Event::Action if passes => (
                message::action_text(&what.compact(), action, &self.who),
                message::SLACK_ACTION_COLOUR,
                None,
            ),
            Event::Success if passes => (
                message::success_text(&what.compact(), action),
                message::SLACK_SUCCESS_COLOUR,
                None,
            ),
            Event::Error(m) => (
                message::error_text(&what.compact(), action, m),
                message::SLACK_ERROR_COLOUR,
                Some(m),
            ),
            _ => return Ok(()),
        };
        let body = message::slack_form(
            channel,
            name,
            icon.as_deref(),
            &self.scrub(&text),
            colour,
            &what,
            error,
        );
        self.post_slack(&token.0, body).await
    }

    fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            out = out.replace(s.as_str(), "<redacted>");
        }
        out
    }

    async fn one(
        &self,
        a: &Auditor,
        level: u32,
        event: Event<'_>,
        what: What<'_>,
        action: &str,
    ) -> Result<(), String> {
        let passes = level >= a.level;
        match &a.kind {
            AuditorKind::Fail => Err("the _fail auditor always fails".into()),
            AuditorKind::Hipchat { .. } => {
                let counts = passes || matches!(event, Event::Error(_));
                if counts && !self.hipchat_told.swap(true, Ordering::Relaxed) {
                    self.note(format!(
                        "audit: {} not notified: HipChat was shut down in 2019; \
                         replace it with a slack or http auditor",
                        a.label()
                    ));
                }
                Ok(())
            }
            AuditorKind::Log { file } => {
                let (line_level, text) = match event {
                    Event::Action => (
                        level,
                        message::action_text(&what.names(), action, &self.who),
                    ),
                    Event::Success => (level, message::success_text(&what.names(), action)),
                    Event::Error(m) => (ERROR, message::error_text(&what.names(), action, m)),
                };
                if line_level < a.level {
                    return Ok(());
                }
                self.write_log(file, line_level, &self.scrub(&text))
            }
            AuditorKind::Http { .. } => {
                if event != Event::Action || !passes {
                    return Ok(());
                }
                self.webhook(a, what, action).await
            }
            AuditorKind::Exec { script, args } => {
                let What::Play(subjects) = what else {
                    return Ok(());
                };
                if event != Event::Success || !passes {
                    return Ok(());
                }
                let argv = message::exec_args(args, action, &what, &self.who);
                self.run_script(script, &argv, &message::exec_stdin(subjects))
                    .await
            }
            AuditorKind::Slack { .. } => self.slack(a, passes, event, what, action).await,
        }
    }

    fn write_log(&self, file: &PathBuf, level: u32, text: &str) -> Result<(), String> {
        let line = message::log_line(local_now(), level, text);
        let _guard = self.log_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .map_err(|e| format!("cannot open the audit log {}: {e}", file.display()))?;
        f.write_all(line.as_bytes())
            .map_err(|e| format!("cannot write the audit log {}: {e}", file.display()))
    }

    async fn run_script(&self, script: &str, argv: &[String], input: &str) -> Result<(), String> {
        let mut cmd = tokio::process::Command::new(script);
        cmd.args(argv).stdin(Stdio::piped());
        if self.script_stdout_to_stderr {
            if let Ok(fd) = std::os::fd::AsFd::as_fd(&std::io::stderr()).try_clone_to_owned() {
                cmd.stdout(Stdio::from(fd));
            }
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {script}: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A script that does not read its input is no failure.
            let _ = stdin.write_all(input.as_bytes()).await;
            drop(stdin);
        }
        let status = child
            .wait()
            .await
            .map_err(|e| format!("waiting for {script}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{script} {status}"))
        }
    }

    async fn post_slack(&self, token: &str, body: String) -> Result<(), String> {
        let response = http::send(
            http::Request {
                method: "POST",
                url: self.slack_url.clone(),
                headers: vec![
                    (
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                    ("Authorization".into(), format!("Bearer {token}")),
                    (
                        "User-Agent".into(),
                        format!("maestro/{}", env!("CARGO_PKG_VERSION")),
                    ),
                ],
                body: body.into_bytes(),
            },
            SLACK_TIMEOUT,
        )
        .await
        .map_err(|e| format!("Slack: {e}"))?;
        if response.status != 200 {
            return Err(format!("Slack answered HTTP {}", response.status));
        }
        let answer: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|_| "Slack's answer is not JSON".to_owned())?;
        if answer["ok"] == true {
            Ok(())
        } else {
            Err(format!(
                "Slack refused the message: {}",
                answer["error"].as_str().unwrap_or("no reason given")
            ))
        }
    }
}

/// The plays 0.8.3 audits, which are ours but `status`.
pub fn audited(action: crate::plan::Action) -> bool {
    !matches!(action, crate::plan::Action::Status)
}

/// `getpass.getuser()`: `LOGNAME`, `USER`, `LNAME`, `USERNAME`, else the
/// password database's name for the user id.
pub fn who() -> String {
    for var in ["LOGNAME", "USER", "LNAME", "USERNAME"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            return v.to_string_lossy().into_owned();
        }
    }
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| format!("uid {}", nix::unistd::getuid()))
}

/// The local time now, as Python's logging stamps it.
fn local_now() -> LocalTime {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: `tm` is a plain C struct for which all-zero bytes are a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers point to live, aligned locals; localtime_r is the
    // thread-safe variant and writes only into `tm`.
    let ok = !unsafe { libc::localtime_r(&secs, &mut tm) }.is_null();
    if !ok {
        return LocalTime {
            year: 1970,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
        };
    }
    LocalTime {
        year: tm.tm_year + 1900,
        month: (tm.tm_mon + 1) as u32,
        day: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        minute: tm.tm_min as u32,
        second: tm.tm_sec as u32,
        millis: now.subsec_millis(),
    }
}

/// The auditors' view of a play's containers, in play order.
pub fn subjects(env: &Environment, containers: impl Iterator<Item = String>) -> Vec<Subject> {
    containers
        .filter_map(|name| {
            let inst = env.instance(&name)?;
            let ship_ip = env
                .ship(&inst.ship)
                .map(|s| s.ip.clone())
                .unwrap_or_default();
            Some(Subject {
                name: inst.name.clone(),
                service: inst.service.clone(),
                ship: inst.ship.clone(),
                ship_ip,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpListener;

    /// (request line, lower-case headers, body) of each request; every answer is `answer`.
    type Seen = std::sync::Arc<Mutex<Vec<(String, Vec<(String, String)>, String)>>>;

    fn receiver(answer: &'static str) -> (u16, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Seen = Default::default();
        let sink = seen.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h.trim().is_empty() {
                        break;
                    }
                    let (k, v) = h.trim().split_once(':').unwrap();
                    headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
                }
                let len = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .map_or(0, |(_, v)| v.parse().unwrap());
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                sink.lock().unwrap().push((
                    line.trim().to_owned(),
                    headers,
                    String::from_utf8(body).unwrap(),
                ));
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                        answer.len()
                    )
                    .as_bytes(),
                );
            }
        });
        (port, seen)
    }

    fn env(audit: &str) -> Environment {
        crate::config::load_for_tests(&format!(
            "name: t\nships: {{main: {{ip: 10.0.0.1}}}}\naudit:\n{audit}"
        ))
    }

    fn subjects(n: usize) -> Vec<Subject> {
        (0..n)
            .map(|i| Subject {
                name: format!("web-{i}"),
                service: "web".into(),
                ship: "main".into(),
                ship_ip: "127.0.0.1".into(),
            })
            .collect()
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Slack's URL is fixed (0.8.3 has no setting for it), so the request is
    /// sent to a local receiver through the test-only [`Audit::with_slack_url`].
    /// The expected bodies are what 0.8.3 (slacker 0.14) sent for the same
    /// calls to such a receiver; the one difference is the error's `fields`,
    /// a dict in 0.8.3 (not what Slack documents) and a one-item list here.
    #[test]
    fn slack_messages_are_maestrong_s() {
        let (port, seen) = receiver("{\"ok\": true}");
        let env = env(
            "  - {type: slack, channel: '#ops', token: xoxb-secret, name: deploy-bot, icon: 'http://i/x.png', level: debug}\n",
        );
        let audit = Audit::new(&env, false)
            .unwrap()
            .with_slack_url(&format!("http://127.0.0.1:{port}/api/chat.postMessage"));
        let mut audit = audit;
        audit.who = "alice".into();
        let two = subjects(2);
        let five = subjects(5);
        rt().block_on(async {
            audit.action(INFO, What::Play(&two), "start").await.unwrap();
            audit
                .success(DEBUG, What::Container(&two[0]), "start")
                .await;
            audit
                .error(INFO, What::Play(&two), "stop", Some("boom"))
                .await;
            audit
                .action(INFO, What::Play(&five), "restart")
                .await
                .unwrap();
        });
        assert!(audit.take_notes().is_empty());
        let seen = seen.lock().unwrap().clone();
        let theirs = [
            "channel=%23ops&username=deploy-bot&attachments=%5B%7B%22fallback%22%3A+%22alice+is+starting+web-0%2C+web-1.%22%2C+%22text%22%3A+%22alice+is+starting+web-0%2C+web-1.%22%2C+%22color%22%3A+%22%231dc7d3%22%2C+%22fields%22%3A+%5B%5D%7D%5D&icon_url=http%3A%2F%2Fi%2Fx.png&mrkdwn=True",
            "channel=%23ops&username=deploy-bot&attachments=%5B%7B%22fallback%22%3A+%22Start+of+web-0+succeeded.%22%2C+%22text%22%3A+%22Start+of+web-0+succeeded.%22%2C+%22color%22%3A+%22good%22%2C+%22fields%22%3A+%5B%5D%7D%5D&icon_url=http%3A%2F%2Fi%2Fx.png&mrkdwn=True",
            "channel=%23ops&username=deploy-bot&attachments=%5B%7B%22fallback%22%3A+%22Failed+to+stop+web-0%2C+web-1%21+%28message%3A+boom%29%22%2C+%22text%22%3A+%22Failed+to+stop+web-0%2C+web-1%21+%28message%3A+boom%29%22%2C+%22color%22%3A+%22danger%22%2C+%22fields%22%3A+%7B%22title%22%3A+%22Error%22%2C+%22value%22%3A+%22boom%22%2C+%22short%22%3A+true%7D%7D%5D&icon_url=http%3A%2F%2Fi%2Fx.png&mrkdwn=True",
            "channel=%23ops&username=deploy-bot&attachments=%5B%7B%22fallback%22%3A+%22alice+is+restarting+5+containers.%22%2C+%22text%22%3A+%22alice+is+restarting+5+containers.%22%2C+%22color%22%3A+%22%231dc7d3%22%2C+%22fields%22%3A+%5B%7B%22title%22%3A+%22Targets%22%2C+%22value%22%3A+%22web-0%2C+web-1%2C+web-2%2C+web-3%2C+web-4%22%7D%5D%7D%5D&icon_url=http%3A%2F%2Fi%2Fx.png&mrkdwn=True",
        ];
        assert_eq!(seen.len(), 4);
        for (i, (line, headers, body)) in seen.iter().enumerate() {
            // 0.8.3 puts the token in the query (`?token=`); here it is a header.
            assert_eq!(line, "POST /api/chat.postMessage HTTP/1.1");
            let header = |n: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(header("authorization"), Some("Bearer xoxb-secret"));
            assert_eq!(
                header("content-type"),
                Some("application/x-www-form-urlencoded")
            );
            let expected = if i == 2 {
                theirs[i].replace("%22fields%22%3A+%7B%22title%22%3A+%22Error%22%2C+%22value%22%3A+%22boom%22%2C+%22short%22%3A+true%7D", "%22fields%22%3A+%5B%7B%22title%22%3A+%22Error%22%2C+%22value%22%3A+%22boom%22%2C+%22short%22%3A+true%7D%5D")
            } else {
                theirs[i].to_owned()
            };
            assert_eq!(*body, expected, "message {i}");
        }
    }

    #[test]
    fn slack_refusals_fail_the_auditor_without_the_token() {
        let (port, _) = receiver("{\"ok\": false, \"error\": \"invalid_auth\"}");
        let env = env("  - {type: slack, channel: c, token: xoxb-secret}\n");
        let audit = Audit::new(&env, false)
            .unwrap()
            .with_slack_url(&format!("http://127.0.0.1:{port}/api/chat.postMessage"));
        let err = rt()
            .block_on(audit.action(INFO, What::Play(&subjects(1)), "start"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "auditor #1 (slack) failed: Slack refused the message: invalid_auth"
        );
    }

    #[test]
    fn levels_filter_as_in_maestrong() {
        let dir = std::env::temp_dir().join(format!("maestro-audit-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.log");
        let _ = std::fs::remove_file(&file);
        let env = env(&format!("  - {{type: log, file: '{}'}}\n", file.display()));
        let audit = Audit::new(&env, false).unwrap();
        let one = subjects(1);
        rt().block_on(async {
            audit
                .action(DEBUG, What::Container(&one[0]), "start")
                .await
                .unwrap();
            audit
                .success(DEBUG, What::Container(&one[0]), "start")
                .await;
            // Errors pass an info-level log auditor even for a container (ERROR level).
            audit
                .error(DEBUG, What::Container(&one[0]), "start", Some("x"))
                .await;
            audit.success(INFO, What::Play(&one), "start").await;
        });
        let text = std::fs::read_to_string(&file).unwrap();
        let levels: Vec<&str> = text
            .lines()
            .map(|l| l[24..].split(':').next().unwrap())
            .collect();
        assert_eq!(levels, ["ERROR", "INFO"], "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn repeated_notes_are_counted() {
        let env = env("  - {type: _fail, ignore_errors: true, level: debug}\n");
        let audit = Audit::new(&env, false).unwrap();
        let three = subjects(3);
        rt().block_on(async {
            for s in &three {
                audit
                    .action(DEBUG, What::Container(s), "stop")
                    .await
                    .unwrap();
            }
            audit.success(INFO, What::Play(&three), "stop").await;
        });
        assert_eq!(
            audit.take_notes(),
            [
                "audit: auditor #1 (_fail) failed (ignored): the _fail auditor always fails (4 times)"
            ]
        );
        assert!(audit.take_notes().is_empty());
    }

    #[test]
    fn secrets_are_scrubbed_from_messages() {
        let env = env("  - {type: _fail}\n");
        let mut audit = Audit::new(&env, false).unwrap();
        audit.secrets = vec!["hunter22".into()];
        assert_eq!(
            audit.scrub("login hunter22 refused"),
            "login <redacted> refused"
        );
    }
}
