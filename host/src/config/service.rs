//! One service (`services.NAME`): its own keys, its environment, and its
//! instances, which it merges its `ports`, `limits` and `lifecycle` into.

use super::error::ConfigError;
use super::instance::{InstanceInput, build_instance};
use super::keys::{instance, service as key};
use super::model::{EnvBuilder, Environment, Service};
use super::read::{Ctx, Entries, get, get_set, join};
use super::validate::{RawInstance, RawService};
use super::yaml::{Node, Value, node_str};

/// `requires` and `wants_info`: service names with their nodes and paths.
fn dependency_list<'n>(
    ctx: &mut Ctx,
    node: Option<&'n Node>,
    path: &str,
) -> Result<Vec<(String, &'n Node, String)>, ConfigError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    match &node.value {
        _ if node.is_null() => Ok(Vec::new()),
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let p = format!("{path}[{i}]");
                Ok((ctx.string(item, &p)?, item, p))
            })
            .collect(),
        Value::Scalar(_) => {
            let name = ctx.string(node, path)?;
            ctx.warn(node, path, format!("expected a list of services; read as [{name}] (MaestroNG would read each character as a service name)"));
            Ok(vec![(name, node, path.to_owned())])
        }
        Value::Map(_) => Err(ctx.err(Some(node), path, "expected a list of services, found dict")),
    }
}

/// Builds a service and its instances into `environment`.
pub(super) fn build_service<'n>(
    ctx: &mut Ctx,
    environment: &mut Environment,
    name: &str,
    node: &'n Node,
    path: &str,
    env_name: &Node,
) -> Result<RawService<'n>, ConfigError> {
    let entries = ctx.map(node, path)?;
    ctx.check_keys(entries, key::ALL, path, "service")?;
    let image = match get_set(entries, key::IMAGE) {
        Some(n) => ctx.string(n, &join(path, key::IMAGE))?,
        None => {
            return Err(ctx.err(
                Some(node),
                &join(path, key::IMAGE),
                "the service's image is missing",
            ));
        }
    };
    let omit = ctx.flag(get(entries, key::OMIT), &join(path, key::OMIT));
    let requires = dependency_list(ctx, get(entries, key::REQUIRES), &join(path, key::REQUIRES))?;
    let wants_info = dependency_list(
        ctx,
        get(entries, key::WANTS_INFO),
        &join(path, key::WANTS_INFO),
    )?;

    // The service environment: envfile, env, then the identity variables.
    let mut service_env = EnvBuilder::default();
    service_env.apply_sources(
        ctx,
        &[
            (get(entries, key::ENVFILE), join(path, key::ENVFILE)),
            (get(entries, key::ENV), join(path, key::ENV)),
        ],
    )?;
    service_env.set_identity_service(env_name, name);

    let Some(instances_node) = get(entries, key::INSTANCES) else {
        return Err(ctx.err(
            Some(node),
            &join(path, key::INSTANCES),
            "the service's instances are missing",
        ));
    };
    let shared = Shared {
        name,
        image: &image,
        path,
        env: &service_env,
        entries,
    };
    let raw_instances = build_instances(
        ctx,
        environment,
        &shared,
        instances_node,
        &join(path, key::INSTANCES),
    )?;
    let names = raw_instances.iter().map(|i| i.name.clone()).collect();
    environment.services.push(Service {
        name: name.to_owned(),
        image,
        omit,
        requires: requires.iter().map(|(n, _, _)| n.clone()).collect(),
        wants_info: wants_info.iter().map(|(n, _, _)| n.clone()).collect(),
        volumes_from_services: Vec::new(),
        instances: names,
    });
    Ok(RawService {
        name: name.to_owned(),
        node,
        path: path.to_owned(),
        requires,
        wants_info,
        instances: raw_instances,
    })
}

/// What every instance of a service gets from it.
struct Shared<'a> {
    name: &'a str,
    image: &'a str,
    path: &'a str,
    env: &'a EnvBuilder,
    entries: &'a Entries,
}

/// Builds the service's `instances` into `environment`, each name once
/// across the environment.
fn build_instances<'n>(
    ctx: &mut Ctx,
    environment: &mut Environment,
    service: &Shared,
    node: &'n Node,
    ipath: &str,
) -> Result<Vec<RawInstance<'n>>, ConfigError> {
    let mut raw_instances = Vec::new();
    for (ikey, inode) in ctx.map(node, ipath)? {
        let iname = node_str(ikey);
        let ip = join(ipath, &iname);
        if let Some(existing) = environment.instance(&iname) {
            return Err(ctx.err(
                Some(ikey),
                &ip,
                format!(
                    "container name {iname:?} is already defined by service {:?}",
                    existing.service
                ),
            ));
        }
        let ie = ctx.map(inode, &ip)?;
        ctx.check_keys(ie, instance::ALL, &ip, "instance")?;
        let instance = build_instance(
            ctx,
            environment,
            InstanceInput {
                name: &iname,
                service: service.name,
                service_image: service.image,
                node: inode,
                entries: ie,
                path: &ip,
                service_path: service.path,
                service_env: service.env,
                service_entries: service.entries,
            },
        )?;
        raw_instances.push(RawInstance {
            name: iname,
            path: ip,
            volumes_from: get_set(ie, instance::VOLUMES_FROM),
        });
        environment.instances.push(instance);
    }
    Ok(raw_instances)
}
