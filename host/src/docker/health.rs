//! Waiting for a container's health status as the engine's own health check
//! reports it: an inspect first (already healthy, or no check at all), then
//! the daemon's event stream from the container's start on, so no transition
//! between the two is missed and nothing is polled.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{ContainerInspectResponse, HealthStatusEnum};
use bollard::query_parameters::EventsOptionsBuilder;
use futures_util::StreamExt;
use tokio::time::Instant;

use super::error::DockerError;
use super::ship::Ship;

/// How many lines of the last probe's output a failure shows.
const LOG_LINES: usize = 10;

/// The last run of a container's health probe (`State.Health.Log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthProbe {
    /// The probe's exit code (0 healthy, 1 unhealthy, else an error running it).
    pub exit_code: i64,
    /// What it printed (Docker keeps 4 KiB), its last lines.
    pub output: String,
}

/// Why a container did not become healthy.
#[derive(Debug, thiserror::Error)]
pub enum HealthWait {
    /// Neither the description nor the image gives it a health check.
    #[error(
        "the container has no health check (no healthcheck in the description, no \
         HEALTHCHECK in image {image}), so it can never be healthy"
    )]
    NoHealthCheck {
        /// The container's image.
        image: String,
    },
    /// Its health check is turned off (`test: [NONE]`).
    #[error("the container's health check is disabled (test [NONE]), so it can never be healthy")]
    Disabled,
    /// The engine called it unhealthy.
    #[error("the container is unhealthy{}", last_probe(.last))]
    Unhealthy {
        /// The last probe, when the engine kept one.
        last: Option<HealthProbe>,
    },
    /// It stopped before it became healthy.
    #[error("the container stopped (exit status {exit_code}) before it became healthy{}", last_probe(.last))]
    Stopped {
        /// Its exit status.
        exit_code: i64,
        /// The last probe, if any ran.
        last: Option<HealthProbe>,
    },
    /// It was removed while waiting.
    #[error("the container was removed before it became healthy")]
    Gone,
    /// `max_wait` passed with the health status still `status`.
    #[error("still {status} after {}s{}", .waited.as_secs(), match .last {
        None => "; the engine ran no probe in that time (Podman runs them from systemd timers)".to_owned(),
        some => last_probe(some),
    })]
    TimedOut {
        /// The status then (`starting` while the first probes fail within the start period).
        status: String,
        /// How long was waited.
        waited: Duration,
        /// The last probe, if any ran.
        last: Option<HealthProbe>,
    },
    /// The daemon could not be asked.
    #[error(transparent)]
    Docker(#[from] DockerError),
}

/// `; last health check (exit status N):` and the probe's output on the lines below.
fn last_probe(last: &Option<HealthProbe>) -> String {
    match last {
        None => String::new(),
        Some(p) if p.output.trim().is_empty() => {
            format!(
                "; last health check: exit status {}, no output",
                p.exit_code
            )
        }
        Some(p) => format!(
            "; last health check (exit status {}) said:\n{}",
            p.exit_code,
            p.output.trim_end()
        ),
    }
}

/// What an inspect tells about a container's health.
struct Seen {
    id: String,
    image: String,
    running: bool,
    exit_code: i64,
    started_at: String,
    disabled: bool,
    status: Option<HealthStatusEnum>,
    last: Option<HealthProbe>,
}

impl Seen {
    fn of(c: ContainerInspectResponse) -> Seen {
        let config = c.config.unwrap_or_default();
        let state = c.state.unwrap_or_default();
        let health = state.health.unwrap_or_default();
        let last = health.log.unwrap_or_default().pop().map(|r| HealthProbe {
            exit_code: r.exit_code.unwrap_or(-1),
            output: tail_lines(r.output.as_deref().unwrap_or(""), LOG_LINES),
        });
        Seen {
            id: c.id.unwrap_or_default(),
            image: config.image.unwrap_or_default(),
            running: state.running.unwrap_or(false),
            exit_code: state.exit_code.unwrap_or(-1),
            started_at: state.started_at.unwrap_or_default(),
            disabled: config
                .healthcheck
                .and_then(|h| h.test)
                .is_some_and(|t| t.first().map(String::as_str) == Some("NONE")),
            status: health
                .status
                .filter(|s| !matches!(s, HealthStatusEnum::EMPTY | HealthStatusEnum::NONE)),
            last,
        }
    }

    /// The wait's outcome when this is already final.
    fn verdict(self) -> Option<Result<(), HealthWait>> {
        match self.status {
            Some(HealthStatusEnum::HEALTHY) => Some(Ok(())),
            Some(HealthStatusEnum::UNHEALTHY) => {
                Some(Err(HealthWait::Unhealthy { last: self.last }))
            }
            _ if !self.running => Some(Err(HealthWait::Stopped {
                exit_code: self.exit_code,
                last: self.last,
            })),
            None if self.disabled => Some(Err(HealthWait::Disabled)),
            None => Some(Err(HealthWait::NoHealthCheck { image: self.image })),
            Some(_) => None,
        }
    }
}

/// The last `n` lines of `text`.
fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `secs.nanos` of a container's `StartedAt`, as the events API's `since` takes it.
fn since_param(started_at: &str) -> Option<(String, i128)> {
    let (secs, nanos) = crate::timestamp::parse_rfc3339(started_at)?;
    let at = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    Some((format!("{secs}.{nanos:09}"), at))
}

impl Ship {
    /// Waits until the engine reports the running container `name` healthy, at most
    /// `within`. Fails at once when it reports it unhealthy (with the last probe's
    /// output), when the container stops, or when it has no health check at all.
    pub async fn wait_healthy(&self, name: &str, within: Duration) -> Result<(), HealthWait> {
        let deadline = Instant::now() + within;
        let seen = self.seen(name).await?;
        let (id, started_at) = (seen.id.clone(), seen.started_at.clone());
        if let Some(verdict) = seen.verdict() {
            return verdict;
        }
        // Every event since the start: what happened between the inspect and
        // the subscription comes first (the daemon keeps recent events).
        let since = since_param(&started_at);
        let filters: HashMap<String, Vec<String>> = [
            ("type".to_owned(), vec!["container".to_owned()]),
            ("container".to_owned(), vec![id.clone()]),
            (
                "event".to_owned(),
                ["health_status", "die", "destroy"]
                    .map(String::from)
                    .to_vec(),
            ),
        ]
        .into();
        let mut options = EventsOptionsBuilder::default().filters(&filters);
        if let Some((param, _)) = &since {
            options = options.since(param);
        }
        let started = since.map_or(0, |(_, at)| at);
        let mut events = self.docker().events(Some(options.build()));
        loop {
            let next = match tokio::time::timeout_at(deadline, events.next()).await {
                Ok(next) => next,
                Err(_) => {
                    let seen = self.seen(name).await?;
                    let (status, last) = (seen.status.map(|s| s.to_string()), seen.last.clone());
                    return match seen.verdict() {
                        Some(verdict) => verdict,
                        None => Err(HealthWait::TimedOut {
                            status: status.unwrap_or_else(|| "starting".into()),
                            waited: within,
                            last,
                        }),
                    };
                }
            };
            let event = match next {
                Some(Ok(event)) => event,
                Some(Err(e)) => {
                    return Err(self
                        .error(format!("watch the health of container {name}"), e)
                        .into());
                }
                None => {
                    return Err(HealthWait::Docker(self.error(
                        format!("watch the health of container {name}"),
                        bollard::errors::Error::IOError {
                            err: std::io::Error::new(
                                std::io::ErrorKind::UnexpectedEof,
                                "the daemon ended its event stream",
                            ),
                        },
                    )));
                }
            };
            // An earlier run of the same container (a reused one) does not count.
            if event.time_nano.is_some_and(|t| i128::from(t) < started) {
                continue;
            }
            let mut action = event.action.unwrap_or_default();
            // Docker says `health_status: healthy`; an engine that puts the
            // status in an attribute instead is read the same way.
            if action == "health_status" {
                if let Some(status) = event
                    .actor
                    .and_then(|a| a.attributes)
                    .and_then(|mut a| a.remove("health_status"))
                {
                    action = format!("health_status: {status}");
                }
            }
            match action.as_str() {
                "destroy" => return Err(HealthWait::Gone),
                "die" => {
                    let seen = self.seen(name).await?;
                    return Err(HealthWait::Stopped {
                        exit_code: seen.exit_code,
                        last: seen.last,
                    });
                }
                _ => match action.strip_prefix("health_status:").map(str::trim) {
                    Some("healthy") => return Ok(()),
                    Some("unhealthy") => {
                        return Err(HealthWait::Unhealthy {
                            last: self.seen(name).await?.last,
                        });
                    }
                    _ => {}
                },
            }
        }
    }

    /// Inspects `name` for its health; a missing container is [`HealthWait::Gone`].
    async fn seen(&self, name: &str) -> Result<Seen, HealthWait> {
        match self
            .docker()
            .inspect_container(
                name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
        {
            Ok(c) => Ok(Seen::of(c)),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(HealthWait::Gone),
            Err(e) => Err(self.error(format!("inspect container {name}"), e).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{
        ContainerConfig, ContainerState, Health, HealthConfig, HealthcheckResult,
    };

    fn inspected(status: Option<HealthStatusEnum>, test: Option<&[&str]>, running: bool) -> Seen {
        Seen::of(ContainerInspectResponse {
            id: Some("abc".into()),
            config: Some(ContainerConfig {
                image: Some("img:1".into()),
                healthcheck: test.map(|t| HealthConfig {
                    test: Some(t.iter().map(|s| s.to_string()).collect()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            state: Some(ContainerState {
                running: Some(running),
                exit_code: Some(if running { 0 } else { 3 }),
                health: status.map(|s| Health {
                    status: Some(s),
                    failing_streak: None,
                    log: Some(vec![HealthcheckResult {
                        exit_code: Some(1),
                        output: Some("a\nb\n".into()),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    #[test]
    fn an_inspect_decides_what_is_already_final() {
        use HealthStatusEnum::*;
        assert!(matches!(
            inspected(Some(HEALTHY), None, true).verdict(),
            Some(Ok(()))
        ));
        assert!(inspected(Some(STARTING), None, true).verdict().is_none());
        let Some(Err(e)) = inspected(Some(UNHEALTHY), None, true).verdict() else {
            panic!("unhealthy is final");
        };
        assert_eq!(
            e.to_string(),
            "the container is unhealthy; last health check (exit status 1) said:\na\nb"
        );
        let Some(Err(e)) = inspected(None, None, true).verdict() else {
            panic!("no health check is final");
        };
        assert!(
            e.to_string().contains("no HEALTHCHECK in image img:1"),
            "{e}"
        );
        let Some(Err(e)) = inspected(None, Some(&["NONE"]), true).verdict() else {
            panic!("a disabled health check is final");
        };
        assert!(matches!(e, HealthWait::Disabled));
        let Some(Err(e)) = inspected(Some(STARTING), None, false).verdict() else {
            panic!("a stopped container is final");
        };
        assert!(
            e.to_string()
                .starts_with("the container stopped (exit status 3)"),
            "{e}"
        );
    }

    #[test]
    fn a_wait_that_saw_no_probe_says_so() {
        let e = HealthWait::TimedOut {
            status: "starting".into(),
            waited: Duration::from_secs(8),
            last: None,
        };
        assert_eq!(
            e.to_string(),
            "still starting after 8s; the engine ran no probe in that time (Podman runs them from systemd timers)"
        );
    }

    #[test]
    fn since_is_the_start_to_the_nanosecond() {
        assert_eq!(
            since_param("2026-11-27T11:22:53.0123Z"),
            Some(("1795778573.012300000".to_owned(), 1_795_778_573_012_300_000))
        );
        assert_eq!(tail_lines("1\n2\n3\n", 2), "2\n3");
    }
}
