//! One compose service → one maestro service and its instances.
//!
//! Where a key goes: the service (`image`, `env`, `envfile`, `ports`,
//! `requires`, `healthcheck`, `networks`, `lifecycle`, `omit`) or each
//! instance (`ship` and the container's run options), as maestro's schema
//! places them. Every key is either written or noted.

use super::emit::{Item, Y};
use super::values::{self, duration_ms};
use super::{ComposeError, Cx, Names, entries, interp, join, kind, out_path, string_map};
use crate::config::yaml::{Node, Value};

/// How a dependent waits for a dependency (`depends_on.X.condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Started,
    Healthy,
    Completed,
}

struct Dep<'n> {
    service: String,
    condition: Condition,
    node: &'n Node,
    path: String,
}

/// A service as built, before the waits of its dependents are added.
pub(super) struct Built<'n> {
    name: String,
    comments: Vec<Item>,
    service: Vec<Item>,
    running_checks: Vec<Y>,
    /// (instance name, its entries).
    pub instances: Vec<(String, Vec<Item>)>,
    /// The compose networks it joins.
    pub networks: Vec<String>,
    /// The ships its instances are on, in order, each once.
    pub ships: Vec<String>,
    /// How long its health check may take to pass, when it has one.
    health_wait: Option<u64>,
    health_disabled: bool,
    deps: Vec<Dep<'n>>,
}

impl Built<'_> {
    /// The `services.NAME` entry.
    pub(super) fn into_item(self) -> Item {
        let mut items = self.comments;
        items.extend(self.service);
        if !self.running_checks.is_empty() {
            items.push(Item::Entry(
                "lifecycle".into(),
                Y::map([("running", Y::Seq(self.running_checks))]),
            ));
        }
        items.push(Item::Entry(
            "instances".into(),
            Y::Map(
                self.instances
                    .into_iter()
                    .map(|(n, e)| Item::Entry(n, Y::Map(e)))
                    .collect(),
            ),
        ));
        Item::Entry(self.name, Y::Block(items))
    }
}

/// Compose's default health check timings, in milliseconds.
const DEFAULT_INTERVAL: u64 = 30_000;
const DEFAULT_TIMEOUT: u64 = 30_000;
const DEFAULT_RETRIES: u64 = 3;

/// How long to wait for an image's own HEALTHCHECK, whose timings the
/// compose file does not give.
const IMAGE_HEALTH_WAIT: u64 = 300;

/// Adds to each dependency the wait its dependents ask for, and `requires`
/// to the dependents; a dependency that is not a service is an error.
pub(super) fn add_health_waits(cx: &mut Cx, built: &mut [Built]) -> Result<(), ComposeError> {
    let mut waits: Vec<(usize, u64)> = Vec::new();
    for i in 0..built.len() {
        let mut requires = Vec::new();
        for dep in &built[i].deps {
            let Some(j) = built.iter().position(|b| b.name == dep.service) else {
                return Err(cx.err(
                    dep.node,
                    &dep.path,
                    format!(
                        "service {:?} depends on {:?}, which is not a service of the file",
                        built[i].name, dep.service
                    ),
                ));
            };
            if !requires.contains(&dep.service) {
                requires.push(dep.service.clone());
            }
            match dep.condition {
                Condition::Started => {}
                Condition::Completed => cx.note(dep.node, &dep.path, format!("service_completed_successfully: maestro cannot wait for {} to exit; it is only started first", dep.service)),
                Condition::Healthy => {
                    let b = &built[j];
                    if b.health_disabled {
                        // No health status will ever come: compose refuses
                        // to start; maestro starts it once the dependency runs.
                        cx.note(dep.node, &dep.path, format!("service_healthy on {}, whose health check is disabled: compose refuses to start this service; maestro starts it once {} runs", dep.service, dep.service));
                        continue;
                    }
                    let wait = match b.health_wait {
                        Some(w) => w,
                        None => {
                            cx.note(dep.node, &dep.path, format!("service_healthy: {} has no healthcheck in the file; its image's HEALTHCHECK is waited for, at most {IMAGE_HEALTH_WAIT} s", dep.service));
                            IMAGE_HEALTH_WAIT
                        }
                    };
                    waits.push((j, wait));
                }
            }
        }
        let comments = cx.take_comments();
        let b = &mut built[i];
        b.comments.extend(comments);
        if !requires.is_empty() {
            // Right after the image (and omit), as maestro's examples write it.
            let at = b
                .service
                .iter()
                .position(|it| matches!(it, Item::Entry(k, _) if k != "image" && k != "omit"))
                .unwrap_or(b.service.len());
            b.service.insert(
                at,
                Item::Entry(
                    "requires".into(),
                    Y::Seq(requires.into_iter().map(Y::Str).collect()),
                ),
            );
        }
    }
    for (j, wait) in waits {
        let check = Y::map([
            ("type", Y::str("health")),
            ("max_wait", Y::Int(wait as i64)),
        ]);
        if !built[j].running_checks.contains(&check) {
            built[j].running_checks.push(check);
        }
    }
    Ok(())
}

/// The seconds a health check may take before compose calls the container
/// unhealthy: the start period, then each retry's interval and timeout.
fn health_wait(interval: u64, timeout: u64, retries: u64, start_period: u64) -> u64 {
    (start_period + (retries + 1) * (interval + timeout))
        .div_ceil(1000)
        .max(10)
}

/// What the instances of a service share, collected key by key.
#[derive(Default)]
struct Run {
    items: Vec<Item>,
    limits: Vec<(String, Y)>,
    volumes: Vec<(String, Y)>,
    container_volumes: Vec<Y>,
    tmpfs: Vec<Y>,
}

impl Run {
    fn push(&mut self, key: &str, value: Y) {
        self.items.push(Item::Entry(key.to_owned(), value));
    }
}

/// A service being read: what its keys said so far.
#[derive(Default)]
struct Svc<'n> {
    image: Option<Y>,
    build: Option<&'n Node>,
    service: Vec<Item>,
    run: Run,
    replicas: usize,
    global: bool,
    container_name: Option<(String, &'n Node)>,
    networks: Vec<String>,
    /// Memberships with a fixed address, which belong to one instance.
    fixed: Option<Vec<NetRef>>,
    network_mode: bool,
    health_wait: Option<u64>,
    health_disabled: bool,
    deps: Vec<Dep<'n>>,
    omit: bool,
    ports: Vec<(String, Y)>,
    publishes: bool,
}

/// Where the service is, for the keys that need more than their value.
struct At<'a> {
    project: &'a str,
    names: &'a Names,
    path: String,
}

/// Builds one service.
pub(super) fn build<'n>(
    cx: &mut Cx,
    project: &str,
    names: &Names,
    ships: &[String],
    name: &str,
    node: &'n Node,
) -> Result<Built<'n>, ComposeError> {
    let at = At {
        project,
        names,
        path: join("services", name),
    };
    let mut svc = Svc {
        replicas: 1,
        ..Svc::default()
    };
    for (key, knode, v) in entries(cx, node, &at.path)? {
        let kp = join(&at.path, &key);
        if !svc.service_key(cx, &at, &key, knode, v, &kp)? && !svc.run_key(cx, &at, &key, v, &kp)? {
            unsupported(cx, &key, knode, &kp);
        }
    }
    svc.finish(cx, &at, ships, name, node)
}

/// Notes a key maestro has no word for.
fn unsupported(cx: &mut Cx, key: &str, knode: &Node, kp: &str) {
    let why = match key {
        k if k.starts_with("x-") => "an extension field; maestro has none",
        "extends" => "maestro does not extend services; copy the keys of the extended service here",
        "secrets" | "configs" => {
            "maestro has no secrets or configs; mount the files with volumes, or give them to maestro-guest's --file-env"
        }
        "cpus" => "maestro limits CPU by shares (cpu_shares) and cpuset, not by a number of CPUs",
        "expose" => {
            "maestro publishes only `ports`; containers on a shared network reach every port anyway"
        }
        "volumes_from" => {
            "maestro's volumes_from names containers of the same ship: add it to the instances once they are placed (volumes_from: [NAME])"
        }
        _ => "maestro has no equivalent",
    };
    cx.note(knode, kp, why);
}

impl<'n> Svc<'n> {
    /// The keys that shape the service itself; false when `key` is not one.
    fn service_key(
        &mut self,
        cx: &mut Cx,
        at: &At,
        key: &str,
        knode: &'n Node,
        v: &'n Node,
        kp: &str,
    ) -> Result<bool, ComposeError> {
        match key {
            "image" => self.image = Some(cx.text(v, kp)?),
            "build" => self.build = Some(knode),
            "environment" => self
                .service
                .push(Item::Entry("env".into(), environment(cx, v, kp)?)),
            "env_file" => self
                .service
                .push(Item::Entry("envfile".into(), env_files(cx, v, kp)?)),
            "ports" => self.ports(cx, v, kp)?,
            "depends_on" => depends_on(cx, v, kp, &mut self.deps)?,
            "links" => self.links(cx, v, kp)?,
            "healthcheck" => {
                let (y, wait, disabled) = healthcheck(cx, v, kp)?;
                (self.health_wait, self.health_disabled) = (wait, disabled);
                self.service.push(Item::Entry("healthcheck".into(), y));
            }
            "deploy" => deploy(
                cx,
                v,
                kp,
                &mut self.replicas,
                &mut self.global,
                &mut self.run,
            )?,
            "scale" => self.replicas = count(cx, v, kp)?,
            "container_name" => self.container_name = Some((cx.resolved(v, kp)?, knode)),
            "networks" => {
                let refs = networks(cx, at, v, kp)?;
                self.networks.extend(refs.iter().map(|r| r.compose.clone()));
                if refs.iter().any(|r| r.ipv4_address.is_some()) {
                    // An address is one container's: the instances say it.
                    self.fixed = Some(refs);
                } else {
                    self.service
                        .push(Item::Entry("networks".into(), net_refs(&refs, true)));
                }
            }
            "profiles" => {
                self.omit = true;
                cx.note(knode, kp, "maestro has no profiles; the service is `omit: true`: it starts only when named (maestro start SERVICE)");
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `ports`: each named, a name used once.
    fn ports(&mut self, cx: &mut Cx, v: &Node, kp: &str) -> Result<(), ComposeError> {
        let Value::Seq(items) = &v.value else {
            return Err(cx.err(v, kp, format!("expected a list, found {}", kind(v))));
        };
        for (i, item) in items.iter().enumerate() {
            let (pname, spec, published) = port(cx, item, &format!("{kp}[{i}]"))?;
            self.publishes |= published;
            let mut unique = pname.clone();
            let mut n = 2;
            while self.ports.iter().any(|(p, _)| *p == unique) {
                unique = format!("{pname}-{n}");
                n += 1;
            }
            self.ports.push((unique, spec));
        }
        Ok(())
    }

    /// `links`: a dependency each; an alias is noted.
    fn links(&mut self, cx: &mut Cx, v: &'n Node, kp: &str) -> Result<(), ComposeError> {
        for (i, item) in list(cx, v, kp)?.into_iter().enumerate() {
            let ip = format!("{kp}[{i}]");
            let text = cx.resolved(item, &ip)?;
            let (svc, alias) = text.split_once(':').unwrap_or((&text, ""));
            if !alias.is_empty() {
                cx.note(item, &ip, format!("the alias {alias:?}: {svc} is reachable by its service name on the shared network; give it a network alias for this name"));
            }
            self.deps.push(Dep {
                service: svc.to_owned(),
                condition: Condition::Started,
                node: item,
                path: ip,
            });
        }
        Ok(())
    }

    /// The container's run options, the same on every instance; false when
    /// `key` is not one.
    fn run_key(
        &mut self,
        cx: &mut Cx,
        at: &At,
        key: &str,
        v: &Node,
        kp: &str,
    ) -> Result<bool, ComposeError> {
        let run = &mut self.run;
        match key {
            "command" | "entrypoint" => run.push(key, argv(cx, v, kp)?),
            "volumes" => volumes(cx, v, kp, run, &|n| at.names.volume(at.project, n))?,
            "tmpfs" => {
                for item in list(cx, v, kp)? {
                    let y = cx.text(item, kp)?;
                    run.tmpfs.push(y);
                }
            }
            "restart" => run.push("restart", Y::Str(cx.resolved(v, kp)?)),
            "network_mode" => {
                self.network_mode = true;
                let mode = cx.resolved(v, kp)?;
                let net = match mode.strip_prefix("service:") {
                    Some(other) => {
                        let first = format!("{}-{other}-1", at.project);
                        cx.note(v, kp, format!("{mode}: read as the first container of {other} ({first}); it must be on the same ship"));
                        format!("container:{first}")
                    }
                    None => mode,
                };
                run.push("net", Y::Str(net));
            }
            "labels" => run.push("labels", string_map(cx, v, kp)?),
            "sysctls" => run.push("sysctls", string_map(cx, v, kp)?),
            "hostname" | "domainname" | "stop_signal" | "ipc" | "pid" | "runtime" | "cpuset" => {
                run.push(key, cx.text(v, kp)?);
            }
            "user" => run.push("username", cx.text(v, kp)?),
            "working_dir" => run.push("workdir", cx.text(v, kp)?),
            "shm_size" | "mem_reservation" => run.push(key, Y::Str(size(&cx.resolved(v, kp)?))),
            "read_only" | "init" | "oom_kill_disable" | "privileged" => {
                let b = cx.resolved(v, kp)?;
                run.push(key, Y::Bool(b == "true"));
            }
            "pids_limit" => run.push(key, Y::Int(integer(cx, v, kp)?)),
            "cpu_shares" => run.limits.push(("cpu".into(), Y::Int(integer(cx, v, kp)?))),
            "mem_limit" => run
                .limits
                .push(("memory".into(), Y::Str(size(&cx.resolved(v, kp)?)))),
            "memswap_limit" => run
                .limits
                .push(("swap".into(), Y::Str(size(&cx.resolved(v, kp)?)))),
            "devices" | "group_add" | "cap_add" | "cap_drop" | "dns" | "security_opt" => {
                let mut out = Vec::new();
                for item in list(cx, v, kp)? {
                    out.push(cx.text(item, kp)?);
                }
                run.push(key, Y::Seq(out));
            }
            "extra_hosts" => run.push("extra_hosts", extra_hosts(cx, v, kp)?),
            "ulimits" => run.push("ulimits", ulimits(cx, v, kp)?),
            "logging" => logging(cx, v, kp, run)?,
            "stop_grace_period" => {
                let text = cx.resolved(v, kp)?;
                let ms = duration_ms(&text)
                    .ok_or_else(|| cx.err(v, kp, format!("invalid duration {text:?}")))?;
                run.push("stop_timeout", Y::Int(ms.div_ceil(1000) as i64));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The service's entries and its instances, placed on the ships in turn.
    fn finish(
        mut self,
        cx: &mut Cx,
        at: &At,
        ships: &[String],
        name: &str,
        node: &Node,
    ) -> Result<Built<'n>, ComposeError> {
        let (project, path) = (at.project, &at.path);
        let image = self.image(cx, project, name, node, path)?;
        if !self.network_mode && self.networks.is_empty() {
            self.networks.push("default".into());
            self.service.push(Item::Entry(
                "networks".into(),
                Y::Seq(vec![Y::Str(at.names.network(project, "default"))]),
            ));
        }
        if !self.ports.is_empty() {
            let ports = std::mem::take(&mut self.ports);
            self.service
                .insert(0, Item::Entry("ports".into(), Y::map(ports)));
        }
        let count = if self.global {
            ships.len()
        } else {
            self.replicas
        };
        if count == 0 {
            cx.note(
                node,
                path,
                "0 replicas: the service has no instance and is `omit: true`",
            );
        }
        let mut head = vec![Item::Entry("image".into(), image)];
        if self.omit || count == 0 {
            head.push(Item::Entry("omit".into(), Y::Bool(true)));
        }
        head.append(&mut self.service);
        if self.publishes && count > ships.len() {
            cx.note(node, path, format!("{count} instances on {} ship(s) publish the same host ports: the instances sharing a ship will fail to start; give them other ports or more ships (--ship)", ships.len()));
        }
        if let Some((_, knode)) = self.container_name.as_ref().filter(|_| count > 1) {
            cx.note(
                knode,
                &join(path, "container_name"),
                format!("one name for {count} instances: they are named {project}-{name}-N"),
            );
        }
        if self.fixed.is_some() && count > 1 {
            cx.note(
                node,
                path,
                format!("a fixed ipv4_address for {count} instances: only the first gets it"),
            );
        }
        let shared = self.run.into_items();
        let instances = (0..count)
            .map(|i| {
                let iname = match &self.container_name {
                    Some((n, _)) if count == 1 => n.clone(),
                    _ => format!("{project}-{name}-{}", i + 1),
                };
                let mut items = vec![Item::Entry(
                    "ship".into(),
                    Y::Str(ships[i % ships.len()].clone()),
                )];
                if let Some(refs) = &self.fixed {
                    items.push(Item::Entry("networks".into(), net_refs(refs, i == 0)));
                }
                items.extend(shared.iter().cloned());
                (iname, items)
            })
            .collect();
        let mut on: Vec<String> = Vec::new();
        for ship in ships.iter().cycle().take(count.min(ships.len())) {
            on.push(ship.clone());
        }
        Ok(Built {
            ships: on,
            name: name.to_owned(),
            comments: cx.take_comments(),
            service: head,
            running_checks: Vec::new(),
            instances,
            networks: self.networks,
            health_wait: self.health_wait,
            health_disabled: self.health_disabled,
            deps: self.deps,
        })
    }

    /// The image: `image`, else the name compose gives a built one.
    fn image(
        &mut self,
        cx: &mut Cx,
        project: &str,
        name: &str,
        node: &Node,
        path: &str,
    ) -> Result<Y, ComposeError> {
        let bpath = join(path, "build");
        match (self.image.take(), self.build) {
            (Some(i), Some(b)) => {
                cx.note(b, &bpath, "maestro does not build images: build and push the image where every ship can pull it");
                Ok(i)
            }
            (None, Some(b)) => {
                let default = format!("{project}-{name}");
                cx.note(b, &bpath, format!("maestro does not build images: the image is named {default}, as compose names it; build and push it where every ship can pull it"));
                Ok(Y::Str(default))
            }
            (Some(i), None) => Ok(i),
            (None, None) => Err(cx.err(node, path, "the service has neither image nor build")),
        }
    }
}

impl Run {
    /// The instance entries: the options in order, then the mounts and limits.
    fn into_items(self) -> Vec<Item> {
        let mut items = self.items;
        if !self.volumes.is_empty() {
            items.push(Item::Entry("volumes".into(), Y::map(self.volumes)));
        }
        if !self.container_volumes.is_empty() {
            items.push(Item::Entry(
                "container_volumes".into(),
                Y::Seq(self.container_volumes),
            ));
        }
        if !self.tmpfs.is_empty() {
            items.push(Item::Entry("tmpfs".into(), Y::Seq(self.tmpfs)));
        }
        if !self.limits.is_empty() {
            items.push(Item::Entry("limits".into(), Y::map(self.limits)));
        }
        items
    }
}

/// A service's membership of a network.
#[derive(Debug, Clone)]
struct NetRef {
    /// The compose name.
    compose: String,
    /// The Docker name.
    docker: String,
    aliases: Option<Y>,
    ipv4_address: Option<String>,
}

/// Memberships as maestro writes them: a list of names, or a mapping when
/// one has aliases or (with `address`) an address.
fn net_refs(refs: &[NetRef], address: bool) -> Y {
    let spec = |r: &NetRef| {
        let mut e = Vec::new();
        if let Some(a) = &r.aliases {
            e.push(("aliases", a.clone()));
        }
        if let Some(ip) = r.ipv4_address.as_ref().filter(|_| address) {
            e.push(("ipv4_address", Y::Str(ip.clone())));
        }
        e
    };
    if refs.iter().all(|r| spec(r).is_empty()) {
        Y::Seq(refs.iter().map(|r| Y::Str(r.docker.clone())).collect())
    } else {
        Y::map(refs.iter().map(|r| (r.docker.clone(), Y::map(spec(r)))))
    }
}

/// A service's `networks`: a list of names, or a mapping with aliases and
/// addresses.
fn networks(cx: &mut Cx, at: &At, v: &Node, kp: &str) -> Result<Vec<NetRef>, ComposeError> {
    let mut refs = Vec::new();
    let docker = |n: &str| at.names.network(at.project, n);
    match &v.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let compose = cx.resolved(item, &format!("{kp}[{i}]"))?;
                refs.push(NetRef {
                    docker: docker(&compose),
                    compose,
                    aliases: None,
                    ipv4_address: None,
                });
            }
        }
        _ => {
            for (net, _, spec) in entries(cx, v, kp)? {
                let np = join(kp, &net);
                let mut r = NetRef {
                    docker: docker(&net),
                    compose: net,
                    aliases: None,
                    ipv4_address: None,
                };
                for (nk, nkn, nv) in entries(cx, spec, &np)? {
                    let nkp = join(&np, &nk);
                    match nk.as_str() {
                        "aliases" => {
                            let mut aliases = Vec::new();
                            for a in list(cx, nv, &nkp)? {
                                aliases.push(cx.text(a, &nkp)?);
                            }
                            r.aliases = Some(Y::Seq(aliases));
                        }
                        "ipv4_address" => r.ipv4_address = Some(cx.resolved(nv, &nkp)?),
                        _ => cx.note(
                            nkn,
                            &nkp,
                            "maestro's network memberships have aliases and ipv4_address only",
                        ),
                    }
                }
                refs.push(r);
            }
        }
    }
    Ok(refs)
}

/// A list's items (a single scalar counts as a one-item list).
fn list<'n>(cx: &Cx, node: &'n Node, path: &str) -> Result<Vec<&'n Node>, ComposeError> {
    match &node.value {
        Value::Seq(items) => Ok(items.iter().collect()),
        Value::Scalar(_) if node.is_null() => Ok(Vec::new()),
        Value::Scalar(_) => Ok(vec![node]),
        Value::Map(_) => Err(cx.err(node, path, "expected a list, found a mapping")),
    }
}

/// `command`/`entrypoint`: a list as it is; a string split as compose
/// splits it (shell words, no shell).
fn argv(cx: &mut Cx, node: &Node, path: &str) -> Result<Y, ComposeError> {
    match &node.value {
        Value::Seq(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                out.push(cx.text(item, &format!("{path}[{i}]"))?);
            }
            Ok(Y::Seq(out))
        }
        _ => {
            let raw = cx.raw(node, path)?;
            let words = crate::shlex::split(&raw)
                .map_err(|e| cx.err(node, path, format!("cannot split {raw:?} into words: {e}")))?;
            let mut out = Vec::new();
            for w in words {
                let segs = interp::parse(&w).map_err(|m| cx.err(node, path, m))?;
                out.push(cx.value(&segs));
            }
            Ok(Y::Seq(out))
        }
    }
}

/// `environment`: a mapping, or `KEY=VALUE` items; a bare `KEY` takes the
/// value maestro's own environment has when it runs.
fn environment(cx: &mut Cx, node: &Node, path: &str) -> Result<Y, ComposeError> {
    let pass = |name: &str| {
        Y::Jinja(interp::jinja(
            &[interp::Seg::Var {
                name: name.to_owned(),
                op: interp::Op::Plain,
                arg: Vec::new(),
            }],
            &Default::default(),
        ))
    };
    match &node.value {
        Value::Seq(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let ip = format!("{path}[{i}]");
                let raw = cx.raw(item, &ip)?;
                match raw.split_once('=') {
                    Some((k, v)) => {
                        let segs = interp::parse(v).map_err(|m| cx.err(item, &ip, m))?;
                        out.push((k.to_owned(), cx.value(&segs)));
                    }
                    None => out.push((raw.clone(), pass(&raw))),
                }
            }
            Ok(Y::map(out))
        }
        _ => {
            let mut out = Vec::new();
            for (k, _, v) in entries(cx, node, path)? {
                let value = if v.is_null() {
                    pass(&k)
                } else {
                    cx.text(v, &join(path, &k))?
                };
                out.push((k, value));
            }
            Ok(Y::map(out))
        }
    }
}

/// `env_file`: the files, each checked for what maestro reads differently
/// (maestro reads env files as `docker run --env-file` does: no quotes
/// removed, every line `KEY=VALUE`).
fn env_files(cx: &mut Cx, node: &Node, path: &str) -> Result<Y, ComposeError> {
    let mut files = Vec::new();
    for (i, item) in list(cx, node, path)?.into_iter().enumerate() {
        let ip = format!("{path}[{i}]");
        let (file, required) = match &item.value {
            Value::Map(_) => {
                let mut file = None;
                let mut required = true;
                for (k, kn, v) in entries(cx, item, &ip)? {
                    match k.as_str() {
                        "path" => file = Some(cx.resolved(v, &join(&ip, &k))?),
                        "required" => required = cx.resolved(v, &join(&ip, &k))? != "false",
                        _ => cx.note(kn, &join(&ip, &k), "maestro reads env files in one format"),
                    }
                }
                (
                    file.ok_or_else(|| cx.err(item, &ip, "an env_file entry needs a path"))?,
                    required,
                )
            }
            _ => (cx.resolved(item, &ip)?, true),
        };
        let on_disk = cx.opts.base_dir.join(&file);
        match std::fs::read_to_string(&on_disk) {
            Ok(text) => {
                let differ: Vec<String> = text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| {
                        let l = l.trim();
                        if l.is_empty() || l.starts_with('#') {
                            return false;
                        }
                        match l.split_once('=') {
                            None => true,
                            Some((k, v)) => {
                                k.starts_with("export ")
                                    || v.starts_with('"')
                                    || v.starts_with('\'')
                                    || v.contains(" #")
                                    || v.contains('$')
                            }
                        }
                    })
                    .map(|(n, _)| (n + 1).to_string())
                    .collect();
                if !differ.is_empty() {
                    cx.note(item, &ip, format!("{file}: line(s) {} use quotes, `export`, `$`, ` #` comments or a bare KEY, which maestro reads as docker run --env-file does (the value as written); rewrite them as plain KEY=VALUE", differ.join(", ")));
                }
            }
            Err(_) if !required => {
                cx.note(item, &ip, format!("{file} is optional in compose; maestro requires it: create it (it may be empty)"));
            }
            Err(e) => {
                cx.note(
                    item,
                    &ip,
                    format!(
                        "{file} cannot be read now ({e}); maestro will not load until it exists"
                    ),
                );
            }
        }
        files.push(Y::Str(out_path(cx.opts, &file)));
    }
    Ok(if files.len() == 1 {
        files.remove(0)
    } else {
        Y::Seq(files)
    })
}

/// One item of `ports`: (its name, its maestro spec, whether it publishes a
/// fixed host port).
fn port(cx: &mut Cx, node: &Node, path: &str) -> Result<(String, Y, bool), ComposeError> {
    let pm = match &node.value {
        Value::Map(_) => {
            let mut pm = values::PortMap {
                target: String::new(),
                published: None,
                host_ip: None,
                protocol: "tcp".into(),
            };
            let mut name = None;
            for (k, kn, v) in entries(cx, node, path)? {
                let kp = join(path, &k);
                match k.as_str() {
                    "target" => pm.target = cx.resolved(v, &kp)?,
                    "published" => {
                        pm.published = Some(cx.resolved(v, &kp)?).filter(|p| !p.is_empty())
                    }
                    "host_ip" => pm.host_ip = Some(cx.resolved(v, &kp)?),
                    "protocol" => pm.protocol = cx.resolved(v, &kp)?,
                    "name" => name = Some(cx.resolved(v, &kp)?),
                    // What `docker compose config` writes for every port.
                    "mode" if cx.resolved(v, &kp)? == "ingress" => {}
                    "mode" | "app_protocol" => cx.note(
                        kn,
                        &kp,
                        "not needed by maestro (swarm's routing mesh, a protocol hint)",
                    ),
                    _ => cx.note(kn, &kp, "maestro has no equivalent"),
                }
            }
            if pm.target.is_empty() {
                return Err(cx.err(node, path, "a port needs a target"));
            }
            if pm.protocol != "tcp" && pm.protocol != "udp" {
                return Err(cx.err(
                    node,
                    path,
                    format!(
                        "unknown protocol {:?} (maestro has tcp and udp)",
                        pm.protocol
                    ),
                ));
            }
            let fixed = pm.published.is_some();
            let (pname, y) = port_spec(cx, node, path, &pm)?;
            return Ok((name.unwrap_or(pname), y, fixed));
        }
        _ => {
            let text = cx.resolved(node, path)?;
            values::parse_port(&text)
                .map_err(|m| cx.err(node, path, format!("invalid port {text:?}: {m}")))?
        }
    };
    let fixed = pm.published.is_some();
    let (pname, y) = port_spec(cx, node, path, &pm)?;
    Ok((pname, y, fixed))
}

/// A port in maestro's syntax, and the name it gets (`p80`, `p53-udp`).
fn port_spec(
    cx: &mut Cx,
    node: &Node,
    path: &str,
    pm: &values::PortMap,
) -> Result<(String, Y), ComposeError> {
    let proto = |p: &str| {
        if pm.protocol == "udp" {
            format!("{p}/udp")
        } else {
            p.to_owned()
        }
    };
    let name = if pm.protocol == "udp" {
        format!("p{}-udp", pm.target)
    } else {
        format!("p{}", pm.target)
    };
    let published = match &pm.published {
        Some(p) => p.clone(),
        None => {
            cx.note(node, path, format!("compose publishes {} on a host port it picks; maestro publishes it on the same port number, {}", pm.target, pm.target));
            pm.target.clone()
        }
    };
    let y = match &pm.host_ip {
        Some(ip) => Y::map([
            ("exposed", Y::Str(proto(&pm.target))),
            (
                "external",
                Y::Seq(vec![Y::Str(ip.clone()), Y::Str(proto(&published))]),
            ),
        ]),
        None => Y::Str(format!("{}:{}", proto(&pm.target), proto(&published))),
    };
    Ok((name, y))
}

/// `volumes` of a service: bind mounts and named volumes (`volumes`),
/// anonymous ones (`container_volumes`), tmpfs mounts (`tmpfs`).
fn volumes(
    cx: &mut Cx,
    node: &Node,
    path: &str,
    run: &mut Run,
    volume_name: &dyn Fn(&str) -> String,
) -> Result<(), ComposeError> {
    let Value::Seq(items) = &node.value else {
        return Err(cx.err(node, path, format!("expected a list, found {}", kind(node))));
    };
    for (i, item) in items.iter().enumerate() {
        let ip = format!("{path}[{i}]");
        let (kind_, source, target, read_only, mode) = match &item.value {
            Value::Map(_) => {
                let (mut t, mut s, mut target, mut ro) =
                    (String::from("volume"), None, String::new(), false);
                for (k, kn, v) in entries(cx, item, &ip)? {
                    let kp = join(&ip, &k);
                    match k.as_str() {
                        "type" => t = cx.resolved(v, &kp)?,
                        "source" => s = Some(cx.resolved(v, &kp)?),
                        "target" => target = cx.resolved(v, &kp)?,
                        "read_only" => ro = cx.resolved(v, &kp)? == "true",
                        // Docker's own behaviour, which `docker compose config` spells out.
                        "bind" | "volume" if compose_default(v) => {}
                        _ => cx.note(
                            kn,
                            &kp,
                            "maestro mounts with a source, a target and ro/rw only",
                        ),
                    }
                }
                (t, s, target, ro, None)
            }
            _ => {
                let text = cx.resolved(item, &ip)?;
                let v = values::parse_volume(&text)
                    .map_err(|m| cx.err(item, &ip, format!("invalid volume {text:?}: {m}")))?;
                let t = match &v.source {
                    Some(s) if values::is_path(s) => "bind",
                    _ => "volume",
                };
                (t.to_owned(), v.source, v.target, false, v.mode)
            }
        };
        let mut mode_parts: Vec<String> = Vec::new();
        if read_only {
            mode_parts.push("ro".into());
        }
        for m in mode.iter().flat_map(|m| m.split(',')) {
            match m {
                "ro" | "rw" | "z" | "Z" => mode_parts.push(m.to_owned()),
                "nocopy" | "cached" | "delegated" | "consistent" => cx.note(
                    item,
                    &ip,
                    format!("the mount option {m:?}: maestro passes ro, rw, z and Z only"),
                ),
                other => cx.note(
                    item,
                    &ip,
                    format!("the mount option {other:?}: maestro passes ro, rw, z and Z only"),
                ),
            }
        }
        match (kind_.as_str(), source) {
            ("tmpfs", _) => run.tmpfs.push(Y::Str(target)),
            ("volume", None) => run.container_volumes.push(Y::Str(target)),
            ("bind" | "volume", Some(source)) => {
                let host = if kind_ == "bind" {
                    bind_source(cx, &source)
                } else {
                    volume_name(&source)
                };
                if run.volumes.iter().any(|(h, _)| *h == host) {
                    cx.note(item, &ip, format!("{host} is mounted twice; maestro's volumes mount each source once (the first mount is kept)"));
                    continue;
                }
                let y = if mode_parts.is_empty() {
                    Y::Str(target)
                } else {
                    Y::map([("target", Y::Str(target)), ("mode", Y::Str(mode_parts.join(",")))])
                };
                run.volumes.push((host, y));
            }
            (other, _) => cx.note(item, &ip, format!("a {other} mount: maestro has bind mounts, named and anonymous volumes and tmpfs")),
        }
    }
    Ok(())
}

/// Whether a mount's `bind`/`volume` options are Docker's defaults
/// (`{create_host_path: true}`, `{nocopy: false}`, `{}`).
fn compose_default(node: &Node) -> bool {
    match &node.value {
        Value::Map(e) => e.iter().all(|(k, v)| {
            let (k, v) = (
                k.scalar().map(|s| s.raw.as_str()),
                v.scalar().map(|s| s.raw.as_str()),
            );
            matches!(
                (k, v),
                (Some("create_host_path"), Some("true")) | (Some("nocopy"), Some("false"))
            )
        }),
        _ => node.is_null(),
    }
}

/// A bind mount's source as an absolute path, as compose resolves it.
fn bind_source(cx: &Cx, source: &str) -> String {
    if let Some(rest) = source.strip_prefix('~') {
        if let Some(home) = cx.opts.vars.environ.get("HOME") {
            return format!("{home}{rest}");
        }
    }
    if source.starts_with('/') {
        return source.to_owned();
    }
    let base = cx
        .opts
        .base_dir
        .canonicalize()
        .unwrap_or_else(|_| cx.opts.base_dir.clone());
    let rel = source.strip_prefix("./").unwrap_or(source);
    if rel == "." {
        base.display().to_string()
    } else {
        base.join(rel).display().to_string()
    }
}

/// `depends_on`: a list (started) or a mapping with conditions.
fn depends_on<'n>(
    cx: &mut Cx,
    node: &'n Node,
    path: &str,
    deps: &mut Vec<Dep<'n>>,
) -> Result<(), ComposeError> {
    match &node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let ip = format!("{path}[{i}]");
                deps.push(Dep {
                    service: cx.resolved(item, &ip)?,
                    condition: Condition::Started,
                    node: item,
                    path: ip,
                });
            }
        }
        _ => {
            for (svc, knode, spec) in entries(cx, node, path)? {
                let sp = join(path, &svc);
                let mut condition = Condition::Started;
                for (k, kn, v) in entries(cx, spec, &sp)? {
                    let kp = join(&sp, &k);
                    match k.as_str() {
                        "condition" => {
                            condition = match cx.resolved(v, &kp)?.as_str() {
                                "service_started" => Condition::Started,
                                "service_healthy" => Condition::Healthy,
                                "service_completed_successfully" => Condition::Completed,
                                other => return Err(cx.err(v, &kp, format!("unknown condition {other:?} (service_started, service_healthy or service_completed_successfully)"))),
                            }
                        }
                        "required" if cx.resolved(v, &kp)? == "false" => cx.note(kn, &kp, format!("maestro's requires are always required: {svc} must be in the description")),
                        "required" => {}
                        "restart" if cx.resolved(v, &kp)? == "true" => cx.note(kn, &kp, format!("maestro does not restart this service when {svc} restarts (restart it with `maestro restart`)")),
                        "restart" => {}
                        _ => cx.note(kn, &kp, "maestro has no equivalent"),
                    }
                }
                deps.push(Dep {
                    service: svc,
                    condition,
                    node: knode,
                    path: sp,
                });
            }
        }
    }
    Ok(())
}

/// `healthcheck`, as maestro's key (compose's spelling), and how long it may
/// take to pass.
fn healthcheck(
    cx: &mut Cx,
    node: &Node,
    path: &str,
) -> Result<(Y, Option<u64>, bool), ComposeError> {
    let mut out = Vec::new();
    let (mut interval, mut timeout, mut retries, mut start) =
        (DEFAULT_INTERVAL, DEFAULT_TIMEOUT, DEFAULT_RETRIES, 0);
    let mut disabled = false;
    for (k, kn, v) in entries(cx, node, path)? {
        let kp = join(path, &k);
        match k.as_str() {
            "test" => {
                let y = match &v.value {
                    Value::Seq(items) => {
                        let mut words = Vec::new();
                        for (i, item) in items.iter().enumerate() {
                            words.push(cx.text(item, &format!("{kp}[{i}]"))?);
                        }
                        if words.first() == Some(&Y::str("NONE")) {
                            disabled = true;
                        }
                        Y::Seq(words)
                    }
                    _ => cx.text(v, &kp)?,
                };
                out.push((k.clone(), y));
            }
            "interval" | "timeout" | "start_period" => {
                let text = cx.resolved(v, &kp)?;
                let ms = duration_ms(&text).ok_or_else(|| cx.err(v, &kp, format!("invalid duration {text:?}")))?;
                match k.as_str() {
                    "interval" => interval = ms,
                    "timeout" => timeout = ms,
                    _ => start = ms,
                }
                out.push((k.clone(), Y::Str(text)));
            }
            "retries" => {
                let n = integer(cx, v, &kp)?;
                retries = u64::try_from(n).map_err(|_| cx.err(v, &kp, "retries cannot be negative"))?;
                out.push((k.clone(), Y::Int(n)));
            }
            "disable" => {
                disabled = cx.resolved(v, &kp)? == "true";
                out.push((k.clone(), Y::Bool(disabled)));
            }
            _ => cx.note(kn, &kp, "maestro's healthcheck has test, interval, timeout, retries, start_period and disable"),
        }
    }
    let wait = (!disabled).then(|| health_wait(interval, timeout, retries, start));
    Ok((Y::map(out), wait, disabled))
}

/// `deploy`: replicas and mode (how many instances), restart policy and
/// memory; the rest is swarm's.
fn deploy(
    cx: &mut Cx,
    node: &Node,
    path: &str,
    replicas: &mut usize,
    global: &mut bool,
    run: &mut Run,
) -> Result<(), ComposeError> {
    for (k, kn, v) in entries(cx, node, path)? {
        let kp = join(path, &k);
        match k.as_str() {
            "replicas" => *replicas = count(cx, v, &kp)?,
            "mode" => match cx.resolved(v, &kp)?.as_str() {
                "global" => *global = true,
                "replicated" => {}
                other => cx.note(kn, &kp, format!("the mode {other:?}: maestro runs replicated or global (one instance per ship) services")),
            },
            "restart_policy" => {
                let mut condition = "any".to_owned();
                let mut attempts = None;
                for (rk, rkn, rv) in entries(cx, v, &kp)? {
                    let rp = join(&kp, &rk);
                    match rk.as_str() {
                        "condition" => condition = cx.resolved(rv, &rp)?,
                        "max_attempts" => attempts = Some(integer(cx, rv, &rp)?),
                        _ => cx.note(rkn, &rp, "Docker's restart policies have a name and a retry count only"),
                    }
                }
                let name = match condition.as_str() {
                    "none" => "no",
                    "on-failure" => "on-failure",
                    _ => "always",
                };
                let y = match attempts {
                    Some(n) if name == "on-failure" => Y::map([("name", Y::str(name)), ("retries", Y::Int(n))]),
                    Some(_) => {
                        cx.note(kn, &kp, "max_attempts: Docker counts retries for on-failure only");
                        Y::str(name)
                    }
                    None => Y::str(name),
                };
                run.push("restart", y);
            }
            "resources" => {
                for (rk, _, rv) in entries(cx, v, &kp)? {
                    let rp = join(&kp, &rk);
                    for (lk, lkn, lv) in entries(cx, rv, &rp)? {
                        let lp = join(&rp, &lk);
                        match (rk.as_str(), lk.as_str()) {
                            ("limits", "memory") => run.limits.push(("memory".into(), Y::Str(size(&cx.resolved(lv, &lp)?)))),
                            ("limits", "pids") => run.push("pids_limit", Y::Int(integer(cx, lv, &lp)?)),
                            ("reservations", "memory") => run.push("mem_reservation", Y::Str(size(&cx.resolved(lv, &lp)?))),
                            _ => cx.note(lkn, &lp, "maestro has memory limits and reservations, cpu shares and cpuset, no CPU counts or devices"),
                        }
                    }
                }
            }
            _ => cx.note(kn, &kp, "swarm's; maestro places instances on the ships given with --ship, in turn"),
        }
    }
    Ok(())
}

/// `extra_hosts`: `HOST:ADDRESS`/`HOST=ADDRESS` items or a mapping.
fn extra_hosts(cx: &mut Cx, node: &Node, path: &str) -> Result<Y, ComposeError> {
    let mut out = Vec::new();
    match &node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let ip = format!("{path}[{i}]");
                let text = cx.resolved(item, &ip)?;
                let (h, a) = text
                    .split_once('=')
                    .or_else(|| text.split_once(':'))
                    .ok_or_else(|| cx.err(item, &ip, format!("{text:?}: expected HOST:ADDRESS")))?;
                out.push((h.to_owned(), Y::str(a.trim_matches(['[', ']']))));
            }
        }
        _ => {
            for (h, _, v) in entries(cx, node, path)? {
                let a = cx.resolved(v, &join(path, &h))?;
                out.push((h, Y::Str(a)));
            }
        }
    }
    Ok(Y::map(out))
}

/// `ulimits`: NAME → a number or {soft, hard}.
fn ulimits(cx: &mut Cx, node: &Node, path: &str) -> Result<Y, ComposeError> {
    let mut out = Vec::new();
    for (name, _, v) in entries(cx, node, path)? {
        let np = join(path, &name);
        let y = match &v.value {
            Value::Map(_) => {
                let mut sh = Vec::new();
                for (k, kn, lv) in entries(cx, v, &np)? {
                    if k == "soft" || k == "hard" {
                        sh.push((k.clone(), Y::Int(integer(cx, lv, &join(&np, &k))?)));
                    } else {
                        cx.note(kn, &join(&np, &k), "a ulimit has soft and hard only");
                    }
                }
                Y::map(sh)
            }
            _ => Y::Int(integer(cx, v, &np)?),
        };
        out.push((name, y));
    }
    Ok(Y::map(out))
}

/// `logging`: driver and options.
fn logging(cx: &mut Cx, node: &Node, path: &str, run: &mut Run) -> Result<(), ComposeError> {
    for (k, kn, v) in entries(cx, node, path)? {
        let kp = join(path, &k);
        match k.as_str() {
            "driver" => run.push("log_driver", cx.text(v, &kp)?),
            "options" => run.push("log_opt", string_map(cx, v, &kp)?),
            _ => cx.note(kn, &kp, "maestro's logging has a driver and options"),
        }
    }
    Ok(())
}

/// An integer (interpolated at import).
fn integer(cx: &mut Cx, node: &Node, path: &str) -> Result<i64, ComposeError> {
    let text = cx.resolved(node, path)?;
    text.trim()
        .parse()
        .map_err(|_| cx.err(node, path, format!("expected an integer, found {text:?}")))
}

/// A replica count.
fn count(cx: &mut Cx, node: &Node, path: &str) -> Result<usize, ComposeError> {
    let n = integer(cx, node, path)?;
    usize::try_from(n).map_err(|_| cx.err(node, path, format!("{n} replicas: expected 0 or more")))
}

/// A size as maestro reads it: compose's `1gb`/`512MB` → `1g`/`512m`,
/// fractions (`1.5g`, which Docker accepts) in bytes; anything else as
/// written, for the loader to judge.
fn size(text: &str) -> String {
    let lower = text.trim().to_ascii_lowercase();
    let digits = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (number, unit) = lower.split_at(digits);
    let unit = unit.trim().strip_suffix('b').unwrap_or(unit.trim());
    let shift = match unit {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return lower,
    };
    match (number.parse::<u64>(), number.parse::<f64>()) {
        (Ok(n), _) if unit != "t" => format!("{n}{unit}"),
        (Ok(n), _) => format!("{}g", n * 1024),
        (Err(_), Ok(f)) if f.is_finite() && f >= 0.0 => {
            format!("{}", (f * (1u64 << shift) as f64).round() as u64)
        }
        _ => lower,
    }
}

impl Built<'_> {
    /// The service's name.
    pub(super) fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_as_maestro_reads_them() {
        for (compose, maestro) in [
            ("512m", "512m"),
            ("512MB", "512m"),
            ("1gb", "1g"),
            ("2T", "2048g"),
            ("1.5g", "1610612736"),
            ("0.5k", "512"),
            ("1048576", "1048576"),
            ("100b", "100"),
            ("lots", "lots"),
        ] {
            assert_eq!(size(compose), maestro, "{compose}");
        }
    }
}
