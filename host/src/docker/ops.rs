//! Container and image operations on a connected [`Ship`].
//!
//! One method per Engine API call MaestroNG makes (plus the polling an exec needs and the
//! pull retry rule). Nothing here chooses what to do: the plan does.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::pin::Pin;
use std::time::Duration;

use bollard::auth::DockerCredentials;
use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{
    ContainerCreateBody, ExecConfig, HostConfig, HostConfigLogConfig, NetworkingConfig,
    PortBinding, ResourcesUlimits, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, KillContainerOptionsBuilder,
    ListContainersOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use futures_util::{Stream, StreamExt};

use super::error::DockerError;
use super::logs::{LineAssembler, LogLine, LogStream, LogTail};
use super::ship::{Engine, Ship};
use crate::spec::{ContainerSpec, RegistryAuth, RestartPolicyName};

/// What `inspect` tells about an existing container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    /// Full container id.
    pub id: String,
    /// Name without Docker's leading `/`.
    pub name: String,
    /// Run state.
    pub state: ContainerState,
    /// Id of the image the container runs (`Image`, `sha256:...`): compared with the
    /// configured image's id by `restart --only-if-changed`.
    pub image_id: String,
    /// The image as written at creation (`Config.Image`): the tag shown by `status`.
    pub config_image: String,
    /// `Config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// `Config.Env` as the container sees it.
    pub env: Vec<String>,
}

/// A container's run state (`State`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerState {
    /// `State.Running`.
    pub running: bool,
    /// `State.Status` (`created`, `running`, `exited`, ...).
    pub status: String,
    /// `State.StartedAt` as sent (RFC 3339); `None` if never started.
    pub started_at: Option<String>,
    /// `State.FinishedAt`; `None` if it never stopped.
    pub finished_at: Option<String>,
    /// `State.ExitCode` (meaningful once stopped).
    pub exit_code: Option<i64>,
}

/// One container of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSummary {
    /// Full id.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// The image as written at creation.
    pub image: String,
    /// `running`, `exited`, `created`, ...
    pub state: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// Which containers `list` returns (running or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerSelector {
    /// Exactly these names (MaestroNG knows its containers by name).
    Names(Vec<String>),
    /// Containers carrying this label, with this value if given.
    Label {
        /// Label key.
        key: String,
        /// Required value; `None` = any value.
        value: Option<String>,
    },
}

/// What `inspect_image` tells about a local image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Image id (`sha256:...`).
    pub id: String,
    /// Every `repo:tag` naming it.
    pub repo_tags: Vec<String>,
}

/// One progress message of a pull, passed on for the output layer to render.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullEvent {
    /// Set when the pull was refused and is about to be tried again:
    /// (HTTP status, the next attempt, attempts in all).
    pub retry: Option<(u16, u32, u32)>,
    /// Layer id, when the message is about one layer.
    pub layer: Option<String>,
    /// `Pulling fs layer`, `Downloading`, `Download complete`, ...
    pub status: String,
    /// Bytes done so far of this layer, when known.
    pub current: Option<i64>,
    /// Size of this layer, when known.
    pub total: Option<i64>,
}

/// Result of running a command inside a container (MaestroNG's `rexec` check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutcome {
    /// The command's exit code.
    pub exit_code: i64,
    /// What it printed, as whole lines.
    pub output: Vec<LogLine>,
}

/// Container id and the daemon's warnings (e.g. an unsupported limit that was ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// Full id of the new container.
    pub id: String,
    /// Warnings the daemon returned.
    pub warnings: Vec<String>,
}

/// How often an exec is polled for its exit code once its output has ended.
const EXEC_POLL: Duration = Duration::from_millis(50);

impl Ship {
    /// Inspects a container by name or id; `Ok(None)` when it does not exist.
    pub async fn inspect(&self, name: &str) -> Result<Option<ContainerInfo>, DockerError> {
        let action = || format!("inspect container {name}");
        let found = self
            .podman_settled(|| {
                self.docker().inspect_container(
                    name,
                    None::<bollard::query_parameters::InspectContainerOptions>,
                )
            })
            .await;
        let c = match found {
            Ok(c) => c,
            Err(Settled::Failed(bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                ..
            })) => return Ok(None),
            Err(e) => return Err(e.into_error(self, action())),
        };
        let state = c.state.unwrap_or_default();
        let config = c.config.unwrap_or_default();
        Ok(Some(ContainerInfo {
            id: c.id.unwrap_or_default(),
            name: strip_slash(c.name.as_deref().unwrap_or(name)),
            state: ContainerState {
                running: state.running.unwrap_or(false),
                status: state.status.map(|s| s.to_string()).unwrap_or_default(),
                started_at: real_time(state.started_at),
                finished_at: real_time(state.finished_at),
                exit_code: state.exit_code,
            },
            image_id: c.image.unwrap_or_default(),
            config_image: config.image.unwrap_or_default(),
            labels: config.labels.unwrap_or_default().into_iter().collect(),
            env: config.env.unwrap_or_default(),
        }))
    }

    /// Lists the containers `selector` picks, stopped ones included, sorted by name.
    pub async fn list(
        &self,
        selector: &ContainerSelector,
    ) -> Result<Vec<ContainerSummary>, DockerError> {
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        let wanted: Option<BTreeSet<&str>> = match selector {
            ContainerSelector::Names(names) => {
                if names.is_empty() {
                    return Ok(Vec::new());
                }
                // The daemon's name filter is a regular expression over `/name` (Docker)
                // or over `name` (Podman): the slash is optional.
                filters.insert(
                    "name".into(),
                    names
                        .iter()
                        .map(|n| format!("^/?{}$", regex_escape(n)))
                        .collect(),
                );
                Some(names.iter().map(String::as_str).collect())
            }
            ContainerSelector::Label { key, value } => {
                let filter = match value {
                    Some(v) => format!("{key}={v}"),
                    None => key.clone(),
                };
                filters.insert("label".into(), vec![filter]);
                None
            }
        };
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let found = self
            .podman_settled(|| self.docker().list_containers(Some(options.clone())))
            .await
            .map_err(|e| e.into_error(self, "list containers".to_owned()))?;
        let mut out: Vec<ContainerSummary> = found
            .into_iter()
            .map(|c| ContainerSummary {
                id: c.id.unwrap_or_default(),
                name: c
                    .names
                    .and_then(|n| n.into_iter().next())
                    .map(|n| strip_slash(&n))
                    .unwrap_or_default(),
                image: c.image.unwrap_or_default(),
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                labels: c.labels.unwrap_or_default().into_iter().collect(),
            })
            .filter(|c| wanted.as_ref().is_none_or(|w| w.contains(c.name.as_str())))
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Inspects a local image; `Ok(None)` when the daemon does not have it.
    pub async fn image_info(&self, image: &str) -> Result<Option<ImageInfo>, DockerError> {
        match self.docker().inspect_image(image).await {
            Ok(i) => {
                let mut repo_tags = i.repo_tags.unwrap_or_default();
                if self.engine() == Engine::Podman {
                    repo_tags = with_docker_names(repo_tags);
                }
                Ok(Some(ImageInfo {
                    id: i.id.unwrap_or_default(),
                    repo_tags,
                }))
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.error(format!("inspect image {image}"), e)),
        }
    }

    /// Whether a local image is tagged with exactly `image` (MaestroNG's pull test: an
    /// image written without a tag never matches its `:latest` tag).
    pub async fn image_present(&self, image: &str) -> Result<bool, DockerError> {
        Ok(self
            .image_info(image)
            .await?
            .is_some_and(|i| i.repo_tags.iter().any(|t| t == image)))
    }

    /// Pulls `image`, sending `auth`'s credentials when given, and reports progress to
    /// `on_event`. A refusal whose HTTP status is in `auth.retry.when` is tried again after
    /// `auth.retry.delay`, up to `auth.retry.attempts` tries; the last failure is returned
    /// (MaestroNG silently gave up instead). Errors never contain the password.
    pub async fn pull(
        &self,
        image: &str,
        auth: Option<&RegistryAuth>,
        on_event: &mut (dyn FnMut(&PullEvent) + Send),
    ) -> Result<(), DockerError> {
        let (repository, tag) = split_image(image);
        let credentials = auth.map(docker_credentials);
        let password = auth.map(|a| a.password.expose()).unwrap_or_default();
        let token = auth
            .and_then(|a| a.identity_token.as_ref())
            .map(|t| t.expose())
            .unwrap_or_default();
        let retry = auth.map(|a| a.retry.clone()).unwrap_or_default();
        let attempts = retry.attempts.max(1);
        let mut attempt = 1;
        loop {
            let mut options = CreateImageOptionsBuilder::default().from_image(repository);
            if let Some(tag) = tag {
                options = options.tag(tag);
            }
            let mut stream =
                self.docker()
                    .create_image(Some(options.build()), None, credentials.clone());
            let mut failure = None;
            while let Some(item) = stream.next().await {
                match item {
                    Ok(info) => on_event(&PullEvent {
                        retry: None,
                        layer: info.id,
                        status: info.status.unwrap_or_default(),
                        current: info.progress_detail.as_ref().and_then(|p| p.current),
                        total: info.progress_detail.as_ref().and_then(|p| p.total),
                    }),
                    Err(e) => {
                        // A retried pull says which attempt failed.
                        let action = if attempt > 1 {
                            format!("pull image {image} (attempt {attempt} of {attempts})")
                        } else {
                            format!("pull image {image}")
                        };
                        failure = Some(self.error(action, e));
                        break;
                    }
                }
            }
            let Some(err) = failure else {
                return Ok(());
            };
            let err = err.scrub(password).scrub(token);
            let retryable = err.status().is_some_and(|s| retry.when.contains(&s));
            if !retryable || attempt >= attempts {
                return Err(err);
            }
            attempt += 1;
            on_event(&PullEvent {
                retry: err.status().map(|s| (s, attempt, attempts)),
                ..PullEvent::default()
            });
            tokio::time::sleep(retry.delay).await;
        }
    }

    /// Creates a container from `spec`, mapping every field onto the create body.
    pub async fn create(&self, spec: &ContainerSpec) -> Result<Created, DockerError> {
        if self.engine() == Engine::Podman && !spec.links.is_empty() {
            // Podman would answer "bad parameter: link is not supported".
            return Err(DockerError::Failed {
                ship: self.name().to_owned(),
                action: format!("create container {}", spec.name),
                status: None,
                reason: format!(
                    "the ship runs Podman, which does not support links (links: {}); \
                     containers find each other through the environment contract's \
                     variables (<SERVICE>_<CONTAINER>_HOST, ..._PORT) instead",
                    spec.links.join(", ")
                ),
            });
        }
        let options = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let created = self
            .docker()
            .create_container(Some(options), self.engine().adapt(create_body(spec)))
            .await
            .map_err(|e| self.error(format!("create container {}", spec.name), e))?;
        // The create call joined the first network; engines before API 1.44 take
        // only one there, so the others are joined before the start.
        for attachment in spec.networks.iter().skip(1) {
            self.connect_network(&spec.name, attachment).await?;
        }
        Ok(Created {
            id: created.id,
            warnings: created.warnings,
        })
    }

    /// Removes a stopped container and its anonymous volumes (MaestroNG: `v=True`, not
    /// forced: removing a running container is refused).
    pub async fn remove(&self, name: &str) -> Result<(), DockerError> {
        let options = RemoveContainerOptionsBuilder::default()
            .v(true)
            .force(false)
            .build();
        self.docker()
            .remove_container(name, Some(options))
            .await
            .map_err(|e| self.error(format!("remove container {name}"), e))
    }

    /// Removes a container whatever its state (`upgrade` discarding a replacement that
    /// failed), with its anonymous volumes.
    pub async fn discard(&self, name: &str) -> Result<(), DockerError> {
        let options = RemoveContainerOptionsBuilder::default()
            .v(true)
            .force(true)
            .build();
        self.docker()
            .remove_container(name, Some(options))
            .await
            .map_err(|e| self.error(format!("remove container {name}"), e))
    }

    /// Renames a container (`upgrade` keeping the old one aside as `NAME.previous`).
    pub async fn rename(&self, name: &str, new_name: &str) -> Result<(), DockerError> {
        let options = bollard::query_parameters::RenameContainerOptionsBuilder::default()
            .name(new_name)
            .build();
        self.docker()
            .rename_container(name, options)
            .await
            .map_err(|e| self.error(format!("rename container {name} to {new_name}"), e))
    }

    /// Starts a created or stopped container (no host config at start, as MaestroNG).
    pub async fn start(&self, name: &str) -> Result<(), DockerError> {
        self.docker()
            .start_container(
                name,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
            .map_err(|e| self.error(format!("start container {name}"), e))
    }

    /// Stops a container: SIGTERM, then SIGKILL after `timeout_secs`. The daemon answers
    /// only once the container is down, so this request may take the ship's timeout plus
    /// `timeout_secs`. Stopping a stopped container succeeds.
    pub async fn stop(&self, name: &str, timeout_secs: u32) -> Result<(), DockerError> {
        let t = i32::try_from(timeout_secs).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::default().t(t).build();
        let extra = Duration::from_secs(u64::from(timeout_secs));
        self.docker_with_extra_time(extra)
            .stop_container(name, Some(options))
            .await
            .map_err(|e| {
                DockerError::from_bollard(
                    self.name(),
                    format!("stop container {name}"),
                    self.timeout() + extra,
                    e,
                )
            })
    }

    /// Sends SIGKILL to a running container.
    pub async fn kill(&self, name: &str) -> Result<(), DockerError> {
        let options = KillContainerOptionsBuilder::default()
            .signal("SIGKILL")
            .build();
        self.docker()
            .kill_container(name, Some(options))
            .await
            .map_err(|e| self.error(format!("kill container {name}"), e))
    }

    /// The container's past output (stdout and stderr, no timestamps), as whole lines.
    pub async fn logs(&self, name: &str, tail: LogTail) -> Result<Vec<LogLine>, DockerError> {
        let mut lines = Vec::new();
        let mut stream = self.follow_logs_inner(name, tail, false, None);
        while let Some(line) = stream.next().await {
            lines.push(line?);
        }
        Ok(lines)
    }

    /// The container's output from `tail` lines back, then live until the container
    /// stops (the stream ends then), as whole lines. Only the initial request is subject
    /// to the ship's timeout.
    pub fn follow_logs(
        &self,
        name: &str,
        tail: LogTail,
    ) -> impl Stream<Item = Result<LogLine, DockerError>> + Send + 'static {
        self.follow_logs_inner(name, tail, true, None)
    }

    /// Like [`Ship::follow_logs`], but only output written at or after `since`
    /// (seconds since the epoch): following a container again after it
    /// restarted, without repeating what its earlier run wrote (lines of the
    /// earlier run from that very second may repeat: the API counts in seconds).
    pub fn follow_logs_since(
        &self,
        name: &str,
        since: i64,
    ) -> impl Stream<Item = Result<LogLine, DockerError>> + Send + 'static {
        self.follow_logs_inner(name, LogTail::All, true, Some(since))
    }

    fn follow_logs_inner(
        &self,
        name: &str,
        tail: LogTail,
        follow: bool,
        since: Option<i64>,
    ) -> Pin<Box<dyn Stream<Item = Result<LogLine, DockerError>> + Send + 'static>> {
        let mut options = LogsOptionsBuilder::default()
            .follow(follow)
            .stdout(true)
            .stderr(true)
            .tail(&tail.to_string());
        if let Some(since) = since {
            // The API's field is 32 bits wide; clamp rather than wrap.
            options = options.since(i32::try_from(since.max(0)).unwrap_or(i32::MAX));
        }
        let options = options.build();
        let frames = self.docker().logs(name, Some(options));
        let ship = self.clone();
        let action = format!("read logs of container {name}");
        lines_of(frames, move |e| ship.error(action.clone(), e))
    }

    /// Runs `command` inside a running container and waits for it to exit (MaestroNG's
    /// `rexec` lifecycle check: success is exit code 0). Has no deadline of its own:
    /// callers bound it with their check's timeout.
    pub async fn exec(&self, name: &str, command: &[String]) -> Result<ExecOutcome, DockerError> {
        let action = || format!("exec {:?} in container {name}", command.join(" "));
        let config = ExecConfig {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(command.to_vec()),
            ..Default::default()
        };
        let exec = self
            .docker()
            .create_exec(name, config)
            .await
            .map_err(|e| self.error(action(), e))?;
        let started = self
            .docker()
            .start_exec(
                &exec.id,
                Some(StartExecOptions {
                    detach: false,
                    tty: false,
                    output_capacity: None,
                }),
            )
            .await
            .map_err(|e| self.error(action(), e))?;
        let mut output = Vec::new();
        if let StartExecResults::Attached { output: frames, .. } = started {
            let ship = self.clone();
            let act = action();
            let mut lines = lines_of(frames, move |e| ship.error(act.clone(), e));
            while let Some(line) = lines.next().await {
                output.push(line?);
            }
        }
        loop {
            let inspected = self
                .docker()
                .inspect_exec(&exec.id)
                .await
                .map_err(|e| self.error(action(), e))?;
            if inspected.running != Some(true) {
                if let Some(exit_code) = inspected.exit_code {
                    return Ok(ExecOutcome { exit_code, output });
                }
            }
            tokio::time::sleep(EXEC_POLL).await;
        }
    }
}

/// How long a Podman container may be reported in a state Docker's API does not have
/// before that is an error: `stopped` lasts from the container's exit until conmon's
/// clean-up has run, normally milliseconds.
const PODMAN_SETTLE: Duration = Duration::from_secs(5);

/// Why a call that waits out Podman's transient states failed.
enum Settled {
    /// The call failed for its own reasons.
    Failed(bollard::errors::Error),
    /// Podman kept answering with a state Docker's API does not know (its message).
    Unsettled(String),
}

impl Settled {
    fn into_error(self, ship: &Ship, action: String) -> DockerError {
        match self {
            Settled::Failed(e) => ship.error(action, e),
            Settled::Unsettled(reason) => DockerError::Failed {
                ship: ship.name().to_owned(),
                action,
                status: None,
                reason: format!(
                    "Podman kept reporting a container state that Docker's API does not have \
                     for {}s ({reason}); Podman 4.3 says `stopped` between a container's exit \
                     and its clean-up, which did not end: see `podman ps -a` and the \
                     service's log",
                    PODMAN_SETTLE.as_secs()
                ),
            },
        }
    }
}

/// Whether `err` is bollard refusing a state name only Podman uses (`stopped`,
/// `configured`, `initialized`): the container is between two of Docker's states.
fn podman_only_state(err: &bollard::errors::Error) -> Option<&str> {
    match err {
        bollard::errors::Error::JsonDataError { message, .. }
            if ["`stopped`", "`configured`", "`initialized`"]
                .iter()
                .any(|s| message.contains(&format!("unknown variant {s}"))) =>
        {
            Some(message)
        }
        _ => None,
    }
}

impl Ship {
    /// Runs `call`, and on a Podman ship runs it again while Podman names a state Docker's
    /// API lacks (bollard cannot read such an answer), for up to [`PODMAN_SETTLE`].
    async fn podman_settled<T, F, Fut>(&self, call: F) -> Result<T, Settled>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, bollard::errors::Error>>,
    {
        let deadline = tokio::time::Instant::now() + PODMAN_SETTLE;
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) if self.engine() == Engine::Podman => match podman_only_state(&e) {
                    Some(reason) if tokio::time::Instant::now() >= deadline => {
                        return Err(Settled::Unsettled(reason.to_owned()));
                    }
                    Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    None => return Err(Settled::Failed(e)),
                },
                Err(e) => return Err(Settled::Failed(e)),
            }
        }
    }
}

/// Podman lists an image by its fully qualified name where Docker shortens it:
/// `docker.io/library/redis:7` for `redis:7`, and `localhost/x:1` for an image it was
/// given unqualified (`podman load` of a `docker save`). Adds the name Docker would show
/// after each such tag, so that an image written as Docker users write it is found.
fn with_docker_names(tags: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(tags.len());
    for tag in tags {
        let short = tag
            .strip_prefix("docker.io/library/")
            .or_else(|| tag.strip_prefix("docker.io/"))
            .or_else(|| tag.strip_prefix("localhost/"))
            .map(str::to_owned);
        for name in std::iter::once(tag).chain(short) {
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// Reassembles a stream of Docker log frames into lines, turning errors with `err`.
fn lines_of<S, F>(
    frames: S,
    err: F,
) -> Pin<Box<dyn Stream<Item = Result<LogLine, DockerError>> + Send + 'static>>
where
    S: Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send + 'static,
    F: Fn(bollard::errors::Error) -> DockerError + Send + 'static,
{
    struct State<S, F> {
        frames: Pin<Box<S>>,
        err: F,
        assembler: LineAssembler,
        ready: VecDeque<LogLine>,
        done: bool,
    }
    let state = State {
        frames: Box::pin(frames),
        err,
        assembler: LineAssembler::default(),
        ready: VecDeque::new(),
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(line) = st.ready.pop_front() {
                return Some((Ok(line), st));
            }
            if st.done {
                return None;
            }
            match st.frames.next().await {
                Some(Ok(frame)) => {
                    let (stream, bytes) = match frame {
                        LogOutput::StdErr { message } => (LogStream::Stderr, message),
                        LogOutput::StdOut { message }
                        | LogOutput::Console { message }
                        | LogOutput::StdIn { message } => (LogStream::Stdout, message),
                    };
                    st.ready.extend(st.assembler.push(stream, &bytes));
                }
                Some(Err(e)) => {
                    st.done = true;
                    let e = (st.err)(e);
                    return Some((Err(e), st));
                }
                None => {
                    st.done = true;
                    st.ready.extend(st.assembler.finish());
                }
            }
        }
    }))
}

/// Maps a [`ContainerSpec`] onto the Engine API's create body, as MaestroNG's create call
/// did (host/COMPAT.md lists where we differ).
pub(crate) fn create_body(spec: &ContainerSpec) -> ContainerCreateBody {
    let port_bindings = spec
        .port_bindings
        .iter()
        .map(|(exposed, hosts)| {
            let bindings = hosts
                .iter()
                .map(|h| PortBinding {
                    host_ip: Some(h.host_ip.clone()),
                    host_port: Some(h.host_port.clone()),
                })
                .collect();
            (exposed.clone(), Some(bindings))
        })
        .collect();
    // Config.Volumes = container-only volumes plus every bind target (MaestroNG declares both).
    let mut volumes: Vec<String> = spec.container_volumes.clone();
    for bind in &spec.binds {
        if let Some(target) = bind_target(bind) {
            if !volumes.iter().any(|v| v == target) {
                volumes.push(target.to_owned());
            }
        }
    }
    let host_config = HostConfig {
        binds: Some(spec.binds.clone()),
        port_bindings: Some(port_bindings),
        links: Some(spec.links.clone()),
        volumes_from: Some(spec.volumes_from.clone()),
        restart_policy: Some(RestartPolicy {
            name: Some(match spec.restart_policy.name {
                RestartPolicyName::No => RestartPolicyNameEnum::NO,
                RestartPolicyName::Always => RestartPolicyNameEnum::ALWAYS,
                RestartPolicyName::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
                RestartPolicyName::UnlessStopped => RestartPolicyNameEnum::UNLESS_STOPPED,
            }),
            maximum_retry_count: Some(i64::from(spec.restart_policy.max_retries)),
        }),
        ulimits: (!spec.ulimits.is_empty()).then(|| {
            spec.ulimits
                .iter()
                .map(|u| ResourcesUlimits {
                    name: Some(u.name.clone()),
                    soft: Some(u.soft),
                    hard: Some(u.hard),
                })
                .collect()
        }),
        dns: spec.dns.clone(),
        extra_hosts: (!spec.extra_hosts.is_empty()).then(|| spec.extra_hosts.clone()),
        network_mode: spec
            .network_mode
            .clone()
            .or_else(|| spec.networks.first().map(|n| n.network.clone())),
        log_config: spec.log_config.as_ref().map(|l| HostConfigLogConfig {
            typ: Some(l.driver.clone()),
            config: Some(l.opts.clone().into_iter().collect()),
        }),
        security_opt: (!spec.security_opt.is_empty()).then(|| spec.security_opt.clone()),
        cap_add: (!spec.cap_add.is_empty()).then(|| spec.cap_add.clone()),
        cap_drop: (!spec.cap_drop.is_empty()).then(|| spec.cap_drop.clone()),
        privileged: Some(spec.privileged),
        cpu_shares: spec.cpu_shares,
        memory: spec.memory,
        memory_swap: spec.memory_swap,
        ..Default::default()
    };
    let mut body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        hostname: spec.hostname.clone(),
        user: spec.user.clone(),
        working_dir: spec.workdir.clone(),
        env: Some(spec.env.clone()),
        cmd: spec.command.clone(),
        exposed_ports: Some(spec.exposed_ports.clone()),
        volumes: Some(volumes),
        labels: Some(spec.labels.clone().into_iter().collect()),
        stop_timeout: Some(i64::from(spec.stop_timeout)),
        host_config: Some(host_config),
        networking_config: spec.networks.first().map(|n| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(
                n.network.clone(),
                super::networks::endpoint(n),
            )])),
        }),
        ..Default::default()
    };
    super::runopts::apply(spec, &mut body);
    body
}

impl Engine {
    /// The create body as this engine understands what Docker would: on Podman 4.3 a
    /// port published on host address `0.0.0.0` becomes a forwarding rule for the
    /// destination 0.0.0.0, which no packet has (the port then answers only to
    /// Podman's own reservation of it and never reaches the container); no address
    /// means every address there, as `0.0.0.0` does on Docker.
    fn adapt(self, mut body: ContainerCreateBody) -> ContainerCreateBody {
        if self != Engine::Podman {
            return body;
        }
        let bindings = body
            .host_config
            .iter_mut()
            .filter_map(|h| h.port_bindings.as_mut())
            .flat_map(|ports| ports.values_mut().flatten().flatten());
        for binding in bindings {
            if binding.host_ip.as_deref() == Some("0.0.0.0") {
                binding.host_ip = None;
            }
        }
        body
    }
}

/// The container path of a `host:container[:mode]` bind.
fn bind_target(bind: &str) -> Option<&str> {
    let mut parts = bind.split(':');
    parts.next()?;
    parts.next().filter(|t| !t.is_empty())
}

/// Splits an image reference into the pull's `fromImage` and `tag` the way MaestroNG
/// does (a colon followed by a `/` belongs to a registry port); a digest reference is
/// pulled whole.
fn split_image(image: &str) -> (&str, Option<&str>) {
    if image.contains('@') {
        return (image, None);
    }
    match image.rsplit_once(':') {
        Some((_, tag)) if tag.contains('/') => (image, Some("latest")),
        Some((repo, "")) => (repo, Some("latest")),
        Some((repo, tag)) => (repo, Some(tag)),
        None => (image, Some("latest")),
    }
}

/// The `X-Registry-Auth` payload for `auth`: what is empty is left out, as the
/// docker CLI leaves it out (a helper's identity token comes without a user name).
fn docker_credentials(auth: &RegistryAuth) -> DockerCredentials {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    DockerCredentials {
        username: some(&auth.username),
        password: some(auth.password.expose()),
        email: auth.email.clone(),
        serveraddress: some(&auth.server_address),
        identitytoken: auth.identity_token.as_ref().and_then(|t| some(t.expose())),
        ..Default::default()
    }
}

/// Docker reports "never" as year 1.
fn real_time(t: Option<String>) -> Option<String> {
    t.filter(|s| !s.is_empty() && !s.starts_with("0001-01-01"))
}

fn strip_slash(name: &str) -> String {
    name.strip_prefix('/').unwrap_or(name).to_owned()
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_podman_state_names_are_waited_out() {
        // What bollard says when Podman 4.3 inspects a container that just exited.
        let json = |message: &str| bollard::errors::Error::JsonDataError {
            message: message.to_owned(),
            column: 224,
        };
        let stopped = json(
            "unknown variant `stopped`, expected one of ``, `created`, `running`, `paused`, \
             `restarting`, `removing`, `exited`, `dead`, `stopping` at line 1 column 224",
        );
        assert!(podman_only_state(&stopped).is_some());
        assert!(podman_only_state(&json("unknown variant `configured`, expected ...")).is_some());
        // Any other unreadable answer is an error at once.
        assert!(podman_only_state(&json("unknown variant `zombie`, expected ...")).is_none());
        assert!(podman_only_state(&json("missing field `Id`")).is_none());
        assert!(
            podman_only_state(&bollard::errors::Error::DockerResponseServerError {
                status_code: 500,
                message: "unknown variant `stopped`".to_owned(),
            })
            .is_none()
        );
    }

    #[test]
    fn podman_gets_no_wildcard_host_address_and_docker_keeps_it() {
        let binding = |ip: &str| PortBinding {
            host_ip: Some(ip.to_owned()),
            host_port: Some("8080".to_owned()),
        };
        let body = ContainerCreateBody {
            host_config: Some(HostConfig {
                port_bindings: Some(HashMap::from([(
                    "80/tcp".to_owned(),
                    Some(vec![binding("0.0.0.0"), binding("127.0.0.1")]),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        };
        let ips = |b: &ContainerCreateBody| -> Vec<Option<String>> {
            b.host_config
                .as_ref()
                .unwrap()
                .port_bindings
                .as_ref()
                .unwrap()["80/tcp"]
                .as_ref()
                .unwrap()
                .iter()
                .map(|p| p.host_ip.clone())
                .collect()
        };
        assert_eq!(
            ips(&Engine::Podman.adapt(body.clone())),
            [None, Some("127.0.0.1".to_owned())]
        );
        assert_eq!(
            ips(&Engine::Docker.adapt(body)),
            [Some("0.0.0.0".to_owned()), Some("127.0.0.1".to_owned())]
        );
    }

    #[test]
    fn podman_image_names_gain_the_names_docker_shows() {
        let tags = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            with_docker_names(tags(&[
                "localhost/maestro-test/busybox:latest",
                "docker.io/library/redis:7",
                "docker.io/team/app:2",
                "127.0.0.1:5000/team/app:v2",
            ])),
            tags(&[
                "localhost/maestro-test/busybox:latest",
                "maestro-test/busybox:latest",
                "docker.io/library/redis:7",
                "redis:7",
                "docker.io/team/app:2",
                "team/app:2",
                "127.0.0.1:5000/team/app:v2",
            ])
        );
        // Both spellings of one image give it once.
        assert_eq!(
            with_docker_names(tags(&["localhost/x:1", "x:1"])),
            tags(&["localhost/x:1", "x:1"])
        );
    }

    #[test]
    fn image_references_split_like_maestro() {
        assert_eq!(split_image("redis"), ("redis", Some("latest")));
        assert_eq!(split_image("redis:7"), ("redis", Some("7")));
        assert_eq!(split_image("redis:"), ("redis", Some("latest")));
        assert_eq!(
            split_image("127.0.0.1:5000/team/app"),
            ("127.0.0.1:5000/team/app", Some("latest"))
        );
        assert_eq!(
            split_image("127.0.0.1:5000/team/app:v2"),
            ("127.0.0.1:5000/team/app", Some("v2"))
        );
        assert_eq!(split_image("x@sha256:abc"), ("x@sha256:abc", None));
    }

    #[test]
    fn credentials_carry_the_identity_token_and_leave_out_what_is_empty() {
        use crate::spec::{RetryPolicy, Secret};
        let mut auth = RegistryAuth {
            server_address: "127.0.0.1:5000".into(),
            username: "u".into(),
            password: Secret::new("pw"),
            identity_token: None,
            email: None,
            retry: RetryPolicy::default(),
        };
        let c = docker_credentials(&auth);
        assert_eq!(c.username.as_deref(), Some("u"));
        assert_eq!(c.password.as_deref(), Some("pw"));
        assert_eq!(c.serveraddress.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(c.identitytoken, None);
        auth.username.clear();
        auth.password = Secret::default();
        auth.identity_token = Some(Secret::new("refresh-token"));
        let c = docker_credentials(&auth);
        assert_eq!((c.username, c.password), (None, None));
        assert_eq!(c.identitytoken.as_deref(), Some("refresh-token"));
    }

    #[test]
    fn bind_targets_and_escaping() {
        assert_eq!(bind_target("/h:/c:ro"), Some("/c"));
        assert_eq!(bind_target("/h:/c"), Some("/c"));
        assert_eq!(bind_target("/h"), None);
        assert_eq!(regex_escape("a.b-1"), "a\\.b-1");
    }

    #[test]
    fn never_is_none() {
        assert_eq!(real_time(Some("0001-01-01T00:00:00Z".into())), None);
        assert_eq!(
            real_time(Some("2026-01-01T00:00:00.5Z".into())).as_deref(),
            Some("2026-01-01T00:00:00.5Z")
        );
    }
}
