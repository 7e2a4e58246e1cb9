//! SSH tunnels to ships (`ssh_tunnel: {user, key, port}`).
//!
//! A tunnel is the system's OpenSSH client forwarding a free local port to the ship's
//! Docker daemon:
//!
//! ```text
//! ssh -N -L 127.0.0.1:<local>:<remote> -i <key> -p <port> -l <user> <endpoint> + options
//! ```
//!
//! where `<remote>` is the ship's `socket_path` when one is given (unix-socket
//! forwarding; the path is the one *on the ship*) and `127.0.0.1:<docker_port>`
//! otherwise (as MaestroNG's bgtunnel does). The Docker client then talks to
//! `127.0.0.1:<local>`, in plain HTTP or in TLS as the ship is configured.
//!
//! What MaestroNG got wrong (its issue #63: tunnels hang) is avoided by construction:
//! - `BatchMode=yes` (never prompt), `ConnectTimeout` = the ship's timeout,
//!   `ExitOnForwardFailure=yes` (a forward that cannot be set up ends ssh), and
//!   `ServerAliveInterval`/`ServerAliveCountMax` (a dead link ends ssh);
//! - [`Tunnel::open`] returns only once the local port accepts *and* the daemon behind
//!   it answers an HTTP request (`GET /_ping`), and gives up with an error after the
//!   ship's timeout; an ssh that exits early is reported at once with its stderr
//!   summarised (never key material: ssh does not print keys, and lines that could
//!   carry one are dropped anyway);
//! - the ssh child dies with its [`Tunnel`]: killed and reaped on every drop (early
//!   return, error, unwinding panic), and `PR_SET_PDEATHSIG` for the cases where no
//!   destructor runs (`panic = "abort"` in release builds, `std::process::exit`, a
//!   fatal signal such as SIGINT or SIGKILL sent to maestro alone). The death signal
//!   follows the *thread* that forked, so every ssh is forked by one thread that lives
//!   as long as the process (not by a runtime thread that may retire). ssh runs in a
//!   process group of its own, so a Ctrl-C at the terminal reaches maestro only: a
//!   play that is interrupted winds down through its tunnels, then closes them.
//!
//! Host keys: `StrictHostKeyChecking=accept-new` with the user's own
//! `~/.ssh/known_hosts` by default (a new host is remembered, a changed key is refused);
//! `ssh_tunnel.known_hosts` and `ssh_tunnel.strict_host_key_checking` override both.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::sync::mpsc;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::model::Ship;

/// What the tunnel forwards to, on the ship's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TunnelRemote {
    /// A TCP address as the SSH server sees it (`127.0.0.1:<docker_port>`).
    Tcp {
        /// Host, from the SSH server's point of view.
        host: String,
        /// Port.
        port: u16,
    },
    /// A unix socket on the ship (OpenSSH ≥ 6.7 on both ends).
    Unix(PathBuf),
}

impl fmt::Display for TunnelRemote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TunnelRemote::Tcp { host, port } => write!(f, "{host}:{port}"),
            TunnelRemote::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// `StrictHostKeyChecking` for the tunnel's SSH connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyChecking {
    /// Remember unknown hosts, refuse changed keys (the default).
    #[default]
    AcceptNew,
    /// Only hosts already in the known-hosts file.
    Yes,
    /// Accept any host key (not recommended).
    No,
}

impl HostKeyChecking {
    /// The value of ssh's `StrictHostKeyChecking` option.
    pub fn as_ssh_option(self) -> &'static str {
        match self {
            HostKeyChecking::AcceptNew => "accept-new",
            HostKeyChecking::Yes => "yes",
            HostKeyChecking::No => "no",
        }
    }

    /// Parses the configuration's spelling (`accept-new`, `yes`, `no`).
    pub fn parse(s: &str) -> Option<HostKeyChecking> {
        match s {
            "accept-new" => Some(HostKeyChecking::AcceptNew),
            "yes" => Some(HostKeyChecking::Yes),
            "no" => Some(HostKeyChecking::No),
            _ => None,
        }
    }
}

/// Everything needed to open one ship's tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelSpec {
    /// The ship's name, for messages.
    pub ship: String,
    /// SSH server: the ship's `endpoint` (which defaults to its `ip`).
    pub ssh_host: String,
    /// SSH port (`ssh_tunnel.port`, default 22).
    pub ssh_port: u16,
    /// Remote user.
    pub user: String,
    /// Private key file.
    pub key: PathBuf,
    /// The daemon's address on the ship.
    pub remote: TunnelRemote,
    /// The ship's timeout: bounds the SSH connection and the whole opening.
    pub timeout: Duration,
    /// Host key policy.
    pub host_key_checking: HostKeyChecking,
    /// Known-hosts file; `None` = ssh's default (`~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// The daemon behind the tunnel speaks TLS (the readiness probe then accepts any
    /// HTTP answer, since a TLS daemon answers a plain request with 400).
    pub tls: bool,
}

impl TunnelSpec {
    /// The tunnel of a configured ship (`None` without `ssh_tunnel`): to its `endpoint`,
    /// forwarding to its `socket_path` (on the ship) if given, else to
    /// `127.0.0.1:<docker_port>`. Relative key and known-hosts paths are taken relative
    /// to `base_dir` (the YAML file's directory).
    pub fn for_ship(ship: &Ship, base_dir: &Path, timeout: Duration) -> Option<TunnelSpec> {
        let t = ship.ssh_tunnel.as_ref()?;
        // `~/` is the user's home, as ssh itself reads it (MaestroNG passed the key to
        // ssh unchanged); other relative paths are relative to the YAML file.
        let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
        let resolve = |p: &Path| match (p.strip_prefix("~"), &home) {
            (Ok(rest), Some(home)) => Path::new(home).join(rest),
            _ if p.is_absolute() => p.to_owned(),
            _ => base_dir.join(p),
        };
        Some(TunnelSpec {
            ship: ship.name.clone(),
            ssh_host: ship.endpoint.clone(),
            ssh_port: t.port,
            user: t.user.clone(),
            key: resolve(&t.key),
            remote: match &ship.socket_path {
                Some(path) => TunnelRemote::Unix(path.clone()),
                None => TunnelRemote::Tcp {
                    host: "127.0.0.1".into(),
                    port: ship.docker_port,
                },
            },
            timeout,
            host_key_checking: t
                .strict_host_key_checking
                .as_deref()
                .and_then(HostKeyChecking::parse)
                .unwrap_or_default(),
            known_hosts: t.known_hosts.as_deref().map(resolve),
            tls: ship.tls.is_some(),
        })
    }

    /// `ssh://user@host:port -> remote`, for messages and `maestro ships`.
    pub fn describe(&self) -> String {
        let host = if self.ssh_host.contains(':') {
            format!("[{}]", self.ssh_host)
        } else {
            self.ssh_host.clone()
        };
        format!(
            "ssh://{}@{host}:{} -> {}",
            self.user, self.ssh_port, self.remote
        )
    }

    /// ssh's arguments for forwarding `local_port` (everything after the program name).
    pub fn ssh_args(&self, local_port: u16) -> Vec<String> {
        let secs = self.timeout.as_secs_f64().ceil().max(1.0) as u64;
        let mut args: Vec<String> = vec![
            "-N".into(),
            "-T".into(),
            "-L".into(),
            format!("127.0.0.1:{local_port}:{}", self.remote),
            "-i".into(),
            self.key.display().to_string(),
            "-p".into(),
            self.ssh_port.to_string(),
            "-l".into(),
            self.user.clone(),
        ];
        let mut opt = |o: String| {
            args.push("-o".into());
            args.push(o);
        };
        opt("BatchMode=yes".into());
        opt("IdentitiesOnly=yes".into());
        opt("ExitOnForwardFailure=yes".into());
        opt(format!("ConnectTimeout={secs}"));
        opt("ServerAliveInterval=15".into());
        opt("ServerAliveCountMax=3".into());
        opt("ClearAllForwardings=no".into());
        // The tunnel must be this very process: no connection sharing from the user's
        // ssh configuration (a master would carry the forward and this ssh would exit).
        opt("ControlMaster=no".into());
        opt("ControlPath=none".into());
        opt(format!(
            "StrictHostKeyChecking={}",
            self.host_key_checking.as_ssh_option()
        ));
        if let Some(file) = &self.known_hosts {
            opt(format!("UserKnownHostsFile={}", file.display()));
        }
        // `--` ends the options: a host name starting with `-` is never an option.
        args.push("--".into());
        args.push(self.ssh_host.clone());
        args
    }
}

/// A tunnel that could not be opened.
#[derive(Debug, Clone, thiserror::Error)]
#[error("ship {ship}: SSH tunnel {target} failed: {reason}")]
pub struct TunnelError {
    /// Ship name.
    pub ship: String,
    /// [`TunnelSpec::describe`].
    pub target: String,
    /// What went wrong, with ssh's own explanation when it gave one.
    pub reason: String,
}

/// An open tunnel. The ssh process ends when this is dropped (or [`Tunnel::close`]d).
#[derive(Debug)]
pub struct Tunnel {
    spec: TunnelSpec,
    local_port: u16,
    child: Child,
    /// ssh was reaped: its pid (and group id) may belong to someone else now.
    reaped: bool,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// The pause between two readiness probes (within the ship's timeout).
const PROBE_INTERVAL: Duration = Duration::from_millis(50);

impl Tunnel {
    /// Starts ssh and waits until the daemon answers through the tunnel, at most the
    /// ship's timeout.
    pub async fn open(spec: &TunnelSpec) -> Result<Tunnel, TunnelError> {
        let fail = |reason: String| TunnelError {
            ship: spec.ship.clone(),
            target: spec.describe(),
            reason,
        };
        match std::fs::metadata(&spec.key) {
            Ok(m) if m.is_file() => {}
            Ok(_) => return Err(fail(format!("key {} is not a file", spec.key.display()))),
            Err(e) => return Err(fail(format!("key {}: {e}", spec.key.display()))),
        }
        let deadline = Instant::now() + spec.timeout;
        // The free port is found by binding and releasing it; someone else may take it
        // before ssh does, which ssh reports ("Address already in use") and we retry.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let port = free_local_port().map_err(|e| fail(format!("no free local port: {e}")))?;
            let mut tunnel = Tunnel::spawn(spec, port).map_err(&fail)?;
            match tunnel.wait_ready(deadline).await {
                Ok(()) => return Ok(tunnel),
                Err(Retry::PortTaken) if attempts < 3 => {
                    tunnel.close().await;
                }
                Err(Retry::PortTaken) => {
                    tunnel.close().await;
                    return Err(fail("no local port could be forwarded".into()));
                }
                Err(Retry::Fatal(reason)) => {
                    tunnel.close().await;
                    return Err(fail(reason));
                }
            }
        }
    }

    fn spawn(spec: &TunnelSpec, local_port: u16) -> Result<Tunnel, String> {
        let mut cmd = Command::new("ssh");
        cmd.args(spec.ssh_args(local_port))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // The child compares its parent with this pid, captured before the fork:
        // "parent is 1" would mean "parent gone" everywhere but where maestro
        // itself is PID 1 (a CI container), and there it failed every tunnel.
        let parent = nix::unistd::getpid();
        // SAFETY: the closure runs in the forked child before exec and only calls
        // prctl(2), setpgid(2) and getppid(2), all async-signal-safe; it allocates
        // nothing.
        unsafe {
            cmd.pre_exec(move || {
                // The child is killed when the thread that forked it ends, which is
                // the spawner thread, which ends with the process: no orphaned
                // tunnels even when no destructor runs.
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)
                    .map_err(std::io::Error::from)?;
                // Its own process group: a Ctrl-C at the terminal interrupts the play
                // (which then winds down and closes its tunnels), not the tunnels
                // under the steps still running.
                nix::unistd::setpgid(nix::unistd::Pid::from_raw(0), nix::unistd::Pid::from_raw(0))
                    .map_err(std::io::Error::from)?;
                if nix::unistd::getppid() != parent {
                    // The parent died before prctl took effect (the child was
                    // re-parented).
                    return Err(std::io::Error::other("parent exited"));
                }
                Ok(())
            });
        }
        let mut child = spawn_from_the_spawner_thread(cmd).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "the OpenSSH client (ssh) is not installed or not on PATH".to_owned()
            }
            _ => format!("cannot start ssh: {e}"),
        })?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let sink = Arc::clone(&stderr);
            // Ends when ssh closes its stderr (it exits).
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut all) = sink.lock() {
                        // Bounded: a chatty ssh cannot grow memory without limit.
                        if all.len() < 64 * 1024 {
                            all.extend_from_slice(&buf[..n]);
                        }
                    }
                }
            });
        }
        Ok(Tunnel {
            spec: spec.clone(),
            local_port,
            child,
            reaped: false,
            stderr,
        })
    }

    async fn wait_ready(&mut self, deadline: Instant) -> Result<(), Retry> {
        let mut last_probe = String::from("the local end never accepted a connection");
        loop {
            if let Some(status) = self.child.try_wait().ok().flatten() {
                self.reaped = true;
                // Let the reader collect what ssh said before exiting.
                let _ = tokio::time::timeout(Duration::from_millis(200), async {
                    while Arc::strong_count(&self.stderr) > 1 {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                })
                .await;
                let said = self.stderr_summary();
                if said.contains("Address already in use") {
                    return Err(Retry::PortTaken);
                }
                let why = if said.is_empty() {
                    format!("ssh exited ({status}) without a message")
                } else {
                    format!("ssh exited ({status}): {said}")
                };
                return Err(Retry::Fatal(why));
            }
            let said = self.stderr_summary();
            if said.contains("open failed") || said.contains("forwarding failed") {
                return Err(Retry::Fatal(format!(
                    "the ship refused the forward to {}: {said}",
                    self.spec.remote
                )));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let mut why = format!(
                    "not ready within the ship's timeout of {}s ({last_probe})",
                    fmt_secs(self.spec.timeout)
                );
                if !said.is_empty() {
                    why.push_str("; ssh said: ");
                    why.push_str(&said);
                }
                return Err(Retry::Fatal(why));
            }
            match tokio::time::timeout(left, probe(self.local_port, self.spec.tls)).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => last_probe = e,
                Err(_) => last_probe = "the daemon did not answer through the tunnel".into(),
            }
            tokio::time::sleep(PROBE_INTERVAL.min(left)).await;
        }
    }

    /// The last lines ssh wrote to stderr, without anything that could be key material.
    fn stderr_summary(&self) -> String {
        let raw = match self.stderr.lock() {
            Ok(all) => String::from_utf8_lossy(&all).into_owned(),
            Err(_) => return String::new(),
        };
        summarise(&raw)
    }

    /// The local port forwarded to the ship's daemon.
    pub fn local_port(&self) -> u16 {
        self.local_port
    }

    /// What this tunnel connects, e.g. `ssh://root@10.0.0.3:22 -> /var/run/docker.sock`.
    pub fn describe(&self) -> String {
        self.spec.describe()
    }

    /// The ssh process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ends ssh and waits for it (the same as dropping the tunnel).
    pub async fn close(self) {
        drop(self);
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        // ssh leads its own process group: killing the group also ends what it started
        // (a ProxyCommand, a ProxyJump's ssh). SIGKILL ends them at once, so reaping
        // ssh right here does not block for long.
        if self.reaped {
            return;
        }
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A request to the spawner thread: the command, and where to send the child.
type SpawnJob = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Forks `cmd` from a thread that lives as long as the process, so that the child's
/// `PR_SET_PDEATHSIG` fires when maestro ends and not when some runtime thread retires.
fn spawn_from_the_spawner_thread(cmd: Command) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<SpawnJob>();
        // If the thread cannot start, `queue` is dropped with it and every request
        // fails below with "not running".
        let _ = std::thread::Builder::new()
            .name("maestro-ssh-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in queue {
                    let _ = reply.send(cmd.spawn());
                }
            });
        Mutex::new(jobs)
    });
    let (reply, answer) = mpsc::channel();
    spawner
        .lock()
        .map_err(|_| std::io::Error::other("the ssh spawner is poisoned"))?
        .send((cmd, reply))
        .map_err(|_| std::io::Error::other("the ssh spawner thread is not running"))?;
    answer
        .recv()
        .map_err(|_| std::io::Error::other("the ssh spawner thread is not running"))?
}

enum Retry {
    PortTaken,
    Fatal(String),
}

/// An unused port on 127.0.0.1 (bound, then released for ssh to take).
fn free_local_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

/// One HTTP request through the tunnel: `GET /_ping`. A plain daemon must answer 200;
/// a TLS daemon answers a plain request with some HTTP error, which proves the path
/// works as well (the Docker client then does the handshake).
async fn probe(port: u16, tls: bool) -> Result<(), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("local port {port}: {e}"))?;
    stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .await
        .map_err(|e| format!("writing through the tunnel: {e}"))?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 256];
    while answer.len() < 64 && !answer.contains(&b'\n') {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("reading through the tunnel: {e}"))?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&answer);
    let line = line.lines().next().unwrap_or("").trim();
    if !line.starts_with("HTTP/") {
        return Err(if line.is_empty() {
            "the tunnel closed without an answer from the daemon".into()
        } else {
            "the far end of the tunnel does not speak HTTP".into()
        });
    }
    if tls || line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(format!("the daemon answered /_ping with {line:?}"))
    }
}

/// ssh's stderr as one line: the last few meaningful lines, joined with `; `, with
/// lines that could carry key material removed and the length bounded.
fn summarise(raw: &str) -> String {
    let lines: Vec<&str> = raw
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter(|l| !looks_like_key_material(l))
        .filter(|l| !l.starts_with("Warning: Permanently added"))
        .collect();
    let tail = &lines[lines.len().saturating_sub(4)..];
    let mut out = tail.join("; ");
    if out.len() > 400 {
        let mut cut = 400;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

/// PEM armour, or a long unbroken base64-like run (a key body or a key blob).
fn looks_like_key_material(line: &str) -> bool {
    if line.contains("-----BEGIN") || line.contains("-----END") || line.contains("PRIVATE KEY") {
        return true;
    }
    line.split_whitespace().any(|word| {
        word.len() >= 40
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    })
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TunnelSpec {
        TunnelSpec {
            ship: "s1".into(),
            ssh_host: "ship.example".into(),
            ssh_port: 2222,
            user: "ops".into(),
            key: "/keys/id".into(),
            remote: TunnelRemote::Unix("/var/run/docker.sock".into()),
            timeout: Duration::from_millis(2500),
            host_key_checking: HostKeyChecking::AcceptNew,
            known_hosts: None,
            tls: false,
        }
    }

    #[test]
    fn ssh_arguments_forward_a_local_port_and_never_prompt() {
        let args = spec().ssh_args(40000);
        let joined = args.join(" ");
        assert!(
            joined.starts_with(
                "-N -T -L 127.0.0.1:40000:/var/run/docker.sock -i /keys/id -p 2222 -l ops"
            ),
            "{joined}"
        );
        for o in [
            "BatchMode=yes",
            "ExitOnForwardFailure=yes",
            "ConnectTimeout=3",
            "StrictHostKeyChecking=accept-new",
            "IdentitiesOnly=yes",
        ] {
            assert!(joined.contains(&format!("-o {o}")), "{o} missing: {joined}");
        }
        assert!(!joined.contains("UserKnownHostsFile"), "{joined}");
        assert!(joined.ends_with("-- ship.example"), "{joined}");
    }

    #[test]
    fn tcp_remote_and_overrides() {
        let mut s = spec();
        s.remote = TunnelRemote::Tcp {
            host: "127.0.0.1".into(),
            port: 2375,
        };
        s.known_hosts = Some("/tmp/kh".into());
        s.host_key_checking = HostKeyChecking::Yes;
        let joined = s.ssh_args(1234).join(" ");
        assert!(
            joined.contains("-L 127.0.0.1:1234:127.0.0.1:2375"),
            "{joined}"
        );
        assert!(joined.contains("-o UserKnownHostsFile=/tmp/kh"), "{joined}");
        assert!(joined.contains("-o StrictHostKeyChecking=yes"), "{joined}");
        assert_eq!(
            s.describe(),
            "ssh://ops@ship.example:2222 -> 127.0.0.1:2375"
        );
    }

    #[test]
    fn summaries_drop_key_material_and_keep_the_reason() {
        let raw = "Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts.\n\
                   -----BEGIN OPENSSH PRIVATE KEY-----\n\
                   b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n\
                   root@127.0.0.1: Permission denied (publickey).\n";
        assert_eq!(
            summarise(raw),
            "root@127.0.0.1: Permission denied (publickey)."
        );
        let long = "word ".repeat(200);
        assert!(summarise(&long).chars().count() <= 401);
    }

    #[test]
    fn a_ship_s_tunnel_forwards_its_socket_or_its_port() {
        use crate::config::model::{ApiVersion, SshTunnel};
        let mut ship = Ship {
            name: "s".into(),
            ip: "10.0.0.3".into(),
            endpoint: "gw.example".into(),
            docker_port: 2376,
            socket_path: Some("/var/run/docker.sock".into()),
            ssh_tunnel: Some(SshTunnel {
                user: "ops".into(),
                key: "keys/id".into(),
                port: 2222,
                known_hosts: Some("kh".into()),
                strict_host_key_checking: Some("yes".into()),
            }),
            api_version: ApiVersion::Default,
            timeout_secs: 5.0,
            tls: None,
        };
        let t = TunnelSpec::for_ship(&ship, Path::new("/env"), Duration::from_secs(5)).unwrap();
        assert_eq!(t.key, Path::new("/env/keys/id"));
        assert_eq!(t.known_hosts.as_deref(), Some(Path::new("/env/kh")));
        assert_eq!(t.host_key_checking, HostKeyChecking::Yes);
        assert_eq!(
            t.describe(),
            "ssh://ops@gw.example:2222 -> /var/run/docker.sock"
        );
        ship.socket_path = None;
        let t = TunnelSpec::for_ship(&ship, Path::new("/env"), Duration::from_secs(5)).unwrap();
        assert_eq!(t.describe(), "ssh://ops@gw.example:2222 -> 127.0.0.1:2376");
        if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
            if let Some(t) = ship.ssh_tunnel.as_mut() {
                t.key = "~/.ssh/id".into();
            }
            let t = TunnelSpec::for_ship(&ship, Path::new("/env"), Duration::from_secs(5)).unwrap();
            assert_eq!(t.key, Path::new(&home).join(".ssh/id"));
        }
        ship.ssh_tunnel = None;
        assert!(TunnelSpec::for_ship(&ship, Path::new("/env"), Duration::from_secs(5)).is_none());
    }

    #[test]
    fn host_key_checking_spellings() {
        for s in ["accept-new", "yes", "no"] {
            assert_eq!(HostKeyChecking::parse(s).unwrap().as_ssh_option(), s);
        }
        assert!(HostKeyChecking::parse("maybe").is_none());
    }

    #[tokio::test]
    async fn a_missing_key_fails_before_ssh_starts() {
        let mut s = spec();
        s.key = "/nonexistent/maestro-test-key".into();
        let err = Tunnel::open(&s).await.unwrap_err();
        assert!(err.to_string().contains("ship s1: SSH tunnel"), "{err}");
        assert!(
            err.reason.contains("/nonexistent/maestro-test-key"),
            "{err}"
        );
    }
}
