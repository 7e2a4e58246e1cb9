//! Errors of the Docker layer.
//!
//! Every message starts with the ship's name and names the container or image acted on,
//! because with many ships a bare "No such container" is useless. Messages are built
//! from the daemon's answer and never from request headers, so registry credentials
//! cannot leak into them; pull errors are additionally scrubbed of the password.

use std::time::Duration;

/// A failure to reach a daemon or of one operation on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DockerError {
    /// The endpoint's own settings are unusable (unreadable certificate, bad version string).
    #[error("ship {ship}: {reason}")]
    Setup {
        /// Ship name.
        ship: String,
        /// What is wrong.
        reason: String,
    },
    /// The daemon did not answer (socket missing, connection refused, TLS handshake failed).
    #[error("ship {ship}: cannot reach the Docker daemon at {endpoint}: {reason}")]
    Unreachable {
        /// Ship name.
        ship: String,
        /// Where we tried, e.g. `unix:///var/run/docker.sock` or `https://10.0.0.3:2376`.
        endpoint: String,
        /// The transport's explanation.
        reason: String,
    },
    /// A pinned API version lies outside what the daemon accepts.
    #[error(
        "ship {ship}: the Docker daemon does not accept API version {requested}: it supports {min} to {max}"
    )]
    ApiVersionRefused {
        /// Ship name.
        ship: String,
        /// The pinned version.
        requested: String,
        /// The daemon's `MinAPIVersion`.
        min: String,
        /// The daemon's `ApiVersion`.
        max: String,
    },
    /// The daemon refused or failed an operation.
    #[error("ship {ship}: {action} failed: {reason}")]
    Failed {
        /// Ship name.
        ship: String,
        /// What was attempted, naming its object: `start container web-1`, `pull image redis:7`.
        action: String,
        /// HTTP status of the daemon's refusal, when there was one (404, 409, 500...).
        status: Option<u16>,
        /// The daemon's message.
        reason: String,
    },
    /// The daemon did not answer within the ship's timeout.
    #[error("ship {ship}: {action} failed: no answer within {}s", timeout.as_secs())]
    Timeout {
        /// Ship name.
        ship: String,
        /// What was attempted.
        action: String,
        /// The timeout that expired.
        timeout: Duration,
    },
}

impl DockerError {
    /// The HTTP status of the daemon's refusal, if the daemon answered with one; this is
    /// what MaestroNG's `retry.when` matches.
    pub fn status(&self) -> Option<u16> {
        match self {
            DockerError::Failed { status, .. } => *status,
            _ => None,
        }
    }

    /// Builds the error for `action` on `ship` from a bollard error.
    pub(crate) fn from_bollard(
        ship: &str,
        action: String,
        timeout: Duration,
        err: bollard::errors::Error,
    ) -> DockerError {
        use bollard::errors::Error as B;
        match err {
            B::DockerResponseServerError {
                status_code,
                message,
            } => DockerError::Failed {
                ship: ship.to_owned(),
                action,
                status: Some(status_code),
                reason: message.trim().to_owned(),
            },
            B::RequestTimeoutError => DockerError::Timeout {
                ship: ship.to_owned(),
                action,
                timeout,
            },
            other => DockerError::Failed {
                ship: ship.to_owned(),
                action,
                status: None,
                reason: chain(&other),
            },
        }
    }

    /// Replaces every occurrence of `secret` in the message by `***`.
    pub(crate) fn scrub(self, secret: &str) -> DockerError {
        if secret.is_empty() {
            return self;
        }
        let clean = |s: String| s.replace(secret, "***");
        match self {
            DockerError::Failed {
                ship,
                action,
                status,
                reason,
            } => DockerError::Failed {
                ship,
                action: clean(action),
                status,
                reason: clean(reason),
            },
            DockerError::Unreachable {
                ship,
                endpoint,
                reason,
            } => DockerError::Unreachable {
                ship,
                endpoint,
                reason: clean(reason),
            },
            DockerError::Setup { ship, reason } => DockerError::Setup {
                ship,
                reason: clean(reason),
            },
            other => other,
        }
    }
}

/// Renders an error and its causes on one line ("a: b: c"), leaving out the client
/// library's generic wrappers ("client error (Connect)") when a cause says more, and a
/// cause whose text the previous one already contains (hyper repeats itself).
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = current {
        let part = e.to_string();
        if !parts.last().is_some_and(|last| last.contains(&part)) {
            parts.push(part);
        }
        current = e.source();
    }
    let generic = |p: &String| {
        p.starts_with("Error in the hyper legacy client") || p.starts_with("client error (")
    };
    if parts.iter().any(|p| !generic(p)) {
        parts.retain(|p| !generic(p));
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_keep_their_status_and_name_ship_and_object() {
        let err = DockerError::from_bollard(
            "ship1",
            "start container web-1".into(),
            Duration::from_secs(5),
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                message: "No such container: web-1\n".into(),
            },
        );
        assert_eq!(err.status(), Some(404));
        assert_eq!(
            err.to_string(),
            "ship ship1: start container web-1 failed: No such container: web-1"
        );
    }

    #[test]
    fn timeouts_say_how_long_was_waited() {
        let err = DockerError::from_bollard(
            "ship2",
            "stop container db".into(),
            Duration::from_secs(15),
            bollard::errors::Error::RequestTimeoutError,
        );
        assert_eq!(err.status(), None);
        assert_eq!(
            err.to_string(),
            "ship ship2: stop container db failed: no answer within 15s"
        );
    }

    #[test]
    fn scrub_removes_the_secret_everywhere() {
        let err = DockerError::Failed {
            ship: "s".into(),
            action: "pull image r/x".into(),
            status: Some(500),
            reason: "login as u with s3cret failed (s3cret)".into(),
        }
        .scrub("s3cret");
        let text = err.to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("***"), "{text}");
    }
}
