//! YAML nodes → the typed [`Environment`]: the top level of the file, with
//! MaestroNG 0.8.3's defaults. Each section has its own parser (`ships`,
//! `service`, `instance` and the files of its keys); the cross-section checks
//! run last (`validate`).

use super::error::{ConfigError, Diagnostic};
use super::keys::{meta, top};
use super::load::Parsed;
use super::model::Environment;
use super::read::{Ctx, Entries, get, get_set, join};
use super::service;
use super::validate::RawService;
use super::yaml::{Node, PyScalar, Value, node_str};
use super::{ships, validate};

/// How strictly to treat keys MaestroNG would ignore.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Unknown keys are errors instead of warnings.
    pub strict: bool,
}

/// A built environment and the warnings met on the way.
#[derive(Debug)]
pub struct Loaded {
    /// The model.
    pub environment: Environment,
    /// Things worth telling the user (unknown keys, surprising YAML 1.1 readings).
    pub warnings: Vec<Diagnostic>,
}

/// The schema of the file, as MaestroNG 0.8.3 reads it: its only test is
/// `schema == 1`, so 1 (or Python's equals of 1: `1.0`, `true`) is schema 1
/// and any other value, `{version: 2}` of MaestroNG's own test files
/// included, is schema 2. A value other than 1 or 2 gets a warning.
fn schema_version(ctx: &mut Ctx, node: Option<&Node>) -> Result<u32, ConfigError> {
    let Some(meta) = node else { return Ok(1) };
    if meta.is_null() {
        return Ok(1);
    }
    let entries = ctx.map(meta, top::MAESTRO)?;
    ctx.check_keys(entries, meta::ALL, top::MAESTRO, top::MAESTRO)?;
    let Some(node) = get(entries, meta::SCHEMA) else {
        return Ok(1);
    };
    let value = node.scalar().map(|s| &s.value);
    let equals = |n: i64| match value {
        Some(PyScalar::Int(_)) => value.and_then(PyScalar::as_i64) == Some(n),
        Some(PyScalar::Float(f)) => *f == n as f64,
        Some(PyScalar::Bool(b)) => i64::from(*b) == n,
        _ => false,
    };
    if equals(1) {
        return Ok(1);
    }
    if !equals(2) {
        ctx.warn(
            node,
            "__maestro.schema",
            "schema version is neither 1 nor 2; read as schema 2, as MaestroNG does",
        );
    }
    Ok(2)
}

/// Builds and validates the model from parsed YAML.
pub fn build(parsed: &Parsed, options: Options) -> Result<Loaded, ConfigError> {
    let mut ctx = Ctx {
        file: &parsed.file,
        base_dir: &parsed.base_dir,
        strict: options.strict,
        warnings: Vec::new(),
    };
    let Some(root) = &parsed.root else {
        return Err(ctx.err_at(None, "", "the environment description is empty"));
    };
    let Value::Map(entries) = &root.value else {
        return Err(ctx.err(
            Some(root),
            "",
            format!(
                "the environment description must be a mapping, found {}",
                root.type_name()
            ),
        ));
    };
    // Keys starting with `_` hold YAML anchors (`_globals`) and are ignored.
    let relevant: Vec<(Node, Node)> = entries
        .iter()
        .filter(|(k, _)| {
            let name = node_str(k);
            name == top::MAESTRO || !name.starts_with('_')
        })
        .cloned()
        .collect();
    ctx.check_keys(&relevant, top::ALL, "", "top-level")?;

    let schema = schema_version(&mut ctx, get(entries, top::MAESTRO))?;

    let Some(name_node) = get(entries, top::NAME) else {
        return Err(ctx.err(Some(root), top::NAME, "the environment name is missing"));
    };
    let name = node_str(name_node);
    if let Some(provider) = get_set(entries, top::SHIP_PROVIDER) {
        let p = ctx.string(provider, top::SHIP_PROVIDER)?;
        if p != "static" {
            return Err(ctx.err(
                Some(provider),
                top::SHIP_PROVIDER,
                format!("unknown ship provider {p:?}; only \"static\" is supported"),
            ));
        }
    }

    let registries = ships::build_registries(&mut ctx, get(entries, top::REGISTRIES))?;
    let ships = ships::build_ships(
        &mut ctx,
        root,
        get(entries, top::SHIPS),
        get(entries, top::SHIP_DEFAULTS),
    )?;
    let audit = super::audit::build_audit(&mut ctx, get(entries, top::AUDIT))?;
    let networks = super::networks::networks(&mut ctx, get_set(entries, top::NETWORKS))?;
    let volumes = super::networks::named_volumes(&mut ctx, get_set(entries, top::VOLUMES))?;

    let services_node = get(entries, top::SERVICES);
    let service_entries: &Entries = match services_node {
        Some(n) => ctx.map(n, top::SERVICES)?,
        None => &[],
    };

    let mut environment = Environment {
        name,
        schema,
        base_dir: parsed.base_dir.clone(),
        registries,
        ships,
        services: Vec::new(),
        instances: Vec::new(),
        audit,
        networks,
        volumes,
    };
    let mut raw_services: Vec<RawService> = Vec::new();
    for (key, node) in service_entries {
        let sname = node_str(key);
        let path = join(top::SERVICES, &sname);
        raw_services.push(service::build_service(
            &mut ctx,
            &mut environment,
            &sname,
            node,
            &path,
            name_node,
        )?);
    }
    validate::resolve_dependencies(&ctx, &raw_services)?;
    validate::check_links(&ctx, &environment, &raw_services)?;
    validate::check_volumes_from(&ctx, &mut environment, &raw_services)?;
    validate::check_cycles(&ctx, &environment, &raw_services)?;
    super::networks::check_fixed_addresses(&ctx, &environment)?;
    Ok(Loaded {
        environment,
        warnings: ctx.warnings,
    })
}
