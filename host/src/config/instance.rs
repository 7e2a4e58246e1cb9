//! One instance (container): its fields, one short call per key, merged
//! with the service's where MaestroNG merges them (`ports`, `limits`,
//! `lifecycle`, `env`). The calls run in the order the keys were always read,
//! so the first error and the warnings come out in the same order.

use super::error::ConfigError;
use super::keys::instance as key;
use super::model::{EnvBuilder, Environment, Instance};
use super::read::{Ctx, Entries, Owners, get, get_set, join};
use super::yaml::Node;
use super::{checks, healthcheck, networks, options, ports, resources, runopts, volumes};

/// What [`build_instance`] needs from its service.
pub(super) struct InstanceInput<'a> {
    pub name: &'a str,
    pub service: &'a str,
    pub service_image: &'a str,
    pub node: &'a Node,
    pub entries: &'a Entries,
    pub path: &'a str,
    pub service_path: &'a str,
    pub service_env: &'a EnvBuilder,
    pub service_entries: &'a Entries,
}

/// Builds one instance with its own variables (link variables come on top of them
/// when its environment is first asked for: [`Environment::container_env`]).
pub(super) fn build_instance(
    ctx: &mut Ctx,
    environment: &Environment,
    input: InstanceInput,
) -> Result<Instance, ConfigError> {
    let InstanceInput {
        name,
        entries,
        path,
        service_path,
        service_entries,
        ..
    } = input;
    let p = |k: &str| join(path, k);
    let at = |k: &str| get(entries, k);
    let set = |k: &str| get_set(entries, k);
    // The keys merged over the service's.
    let owners = Owners {
        service: service_entries,
        service_path,
        instance: entries,
        path,
    };

    let (ship_name, ship_ip) = ship(ctx, environment, &input)?;
    let image = match set(key::IMAGE) {
        Some(n) => ctx.string(n, &p(key::IMAGE))?,
        None => input.service_image.to_owned(),
    };
    let command = command(ctx, entries, path)?;
    let ports = ports::ports(ctx, owners)?;
    let env = own_env(ctx, &input, &ship_ip, &image)?;
    let volumes = volumes::volumes(ctx, environment.schema, set(key::VOLUMES), &p(key::VOLUMES))?;
    networks::check_volume_sources(ctx, set(key::VOLUMES), &p(key::VOLUMES), &volumes)?;
    let container_volumes = volumes::container_volumes(
        ctx,
        at(key::CONTAINER_VOLUMES),
        &p(key::CONTAINER_VOLUMES),
        &volumes,
    )?;
    let links = options::links(ctx, set(key::LINKS), &p(key::LINKS))?;
    let extra_hosts = options::extra_hosts(
        ctx,
        environment,
        set(key::EXTRA_HOSTS),
        &p(key::EXTRA_HOSTS),
    )?;
    let restart = options::restart(ctx, at(key::RESTART), &p(key::RESTART))?;
    let dns = ctx.opt_string_list(at(key::DNS), &p(key::DNS))?;
    let stop_timeout = match set(key::STOP_TIMEOUT) {
        Some(n) => ctx.uint(n, &p(key::STOP_TIMEOUT))?,
        None => 10,
    };
    let limits = resources::limits(ctx, owners)?;
    let log = options::log(ctx, entries, path)?;
    let lxc_conf = options::lxc_conf(ctx, set(key::LXC_CONF), &p(key::LXC_CONF))?;
    let security_opt = ctx.opt_string_list(at(key::SECURITY_OPT), &p(key::SECURITY_OPT))?;
    let ulimits = resources::ulimits(ctx, set(key::ULIMITS), &p(key::ULIMITS))?;
    let labels = options::labels(ctx, set(key::LABELS), &p(key::LABELS))?;
    let lifecycle = checks::lifecycle(ctx, &ports, name, owners)?;
    let privileged = ctx.flag(at(key::PRIVILEGED), &p(key::PRIVILEGED));
    let net = ctx.opt_string(at(key::NET), &p(key::NET))?;
    let networks =
        networks::memberships(ctx, environment, owners, net.as_deref().zip(set(key::NET)))?;
    let health = healthcheck::healthcheck(ctx, owners)?;
    healthcheck::gate(ctx, &health, &lifecycle)?;
    let run = runopts::run_options(ctx, entries, path)?;

    Ok(Instance {
        name: name.to_owned(),
        service: input.service.to_owned(),
        ship: ship_name,
        image,
        command,
        ports,
        own_env: env,
        env: Default::default(),
        volumes,
        container_volumes,
        volumes_from: Vec::new(),
        links,
        username: options::user(ctx, entries, path)?,
        privileged,
        cap_add: ctx.string_list(at(key::CAP_ADD), &p(key::CAP_ADD))?,
        cap_drop: ctx.string_list(at(key::CAP_DROP), &p(key::CAP_DROP))?,
        extra_hosts,
        net,
        networks,
        restart,
        dns,
        stop_timeout,
        limits,
        log,
        lxc_conf,
        workdir: ctx.opt_string(at(key::WORKDIR), &p(key::WORKDIR))?,
        security_opt,
        ulimits,
        labels,
        lifecycle,
        healthcheck: health.check,
        run,
    })
}

/// `ship`: the ship's name and address; it must be one of `ships`.
fn ship(
    ctx: &Ctx,
    environment: &Environment,
    input: &InstanceInput,
) -> Result<(String, String), ConfigError> {
    let path = join(input.path, key::SHIP);
    let node = get_set(input.entries, key::SHIP);
    let ship_name = match node {
        Some(n) => ctx.string(n, &path)?,
        None => return Err(ctx.err(Some(input.node), &path, "the instance's ship is missing")),
    };
    let Some(ship) = environment.ship(&ship_name) else {
        return Err(ctx.err(node, &path, format!("unknown ship {ship_name:?}")));
    };
    Ok((ship_name, ship.ip.clone()))
}

/// The instance's own variables: the service's, then its `envfile` and
/// `env`, then the container identity.
fn own_env(
    ctx: &mut Ctx,
    input: &InstanceInput,
    ship_ip: &str,
    image: &str,
) -> Result<EnvBuilder, ConfigError> {
    let p = |k: &str| join(input.path, k);
    let mut env = input.service_env.clone();
    env.apply_sources(
        ctx,
        &[
            (get(input.entries, key::ENVFILE), p(key::ENVFILE)),
            (get(input.entries, key::ENV), p(key::ENV)),
        ],
    )?;
    env.set_identity_container(input.name, ship_ip, image);
    Ok(env)
}

/// `command`, or the deprecated `cmd` with a warning.
fn command(
    ctx: &mut Ctx,
    entries: &Entries,
    path: &str,
) -> Result<Option<super::model::Command>, ConfigError> {
    Ok(
        match (get_set(entries, key::COMMAND), get_set(entries, key::CMD)) {
            (Some(n), _) => Some(options::command(ctx, n, &join(path, key::COMMAND))?),
            (None, Some(n)) => {
                ctx.warn(n, &join(path, key::CMD), "cmd is deprecated; use command");
                Some(options::command(ctx, n, &join(path, key::CMD))?)
            }
            (None, None) => None,
        },
    )
}
