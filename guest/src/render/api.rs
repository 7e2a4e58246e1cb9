//! What templates see: MaestroNG's guest functions under their Python
//! names (with Python-style keyword arguments and return types), and `env`.
//!
//! Templates written for MaestroNG's Python init scripts translate almost
//! word for word: `get_node_list('zookeeper', ports=['client'])` returns a
//! list of strings, `get_port('broker', 9092)` an int, and a failing lookup
//! raises a template error carrying guestutils' message.

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::value::{Kwargs, Object, Rest, Value, from_args};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior};

use crate::contract::{ContractError, GuestEnv, PortNumber};

/// Builds the template environment over the guest's variables.
///
/// Undefined variables are errors (strict), except that a missing key of
/// `env` is a [`MissingVar`]: falsy and treated as undefined by `default`
/// and `is defined`, so `env.HEAP or '1G'` and `env.HEAP | default('1G')`
/// both work, while printing it still fails naming the variable.
pub fn environment(guest: Arc<GuestEnv>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Config files are not HTML, whatever their extension.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_debug(true);
    // A config file's last newline is part of it (Jinja2 would drop it).
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build();
    if let Ok(syntax) = syntax {
        env.set_syntax(syntax);
    }
    env.set_formatter(format_value);
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_test("defined", is_defined);
    env.add_test("undefined", |value: &Value| !is_defined(value));
    env.add_global("env", Value::from_object(EnvVars(guest.vars().clone())));
    add_guest_functions(&mut env, guest);
    env
}

/// Registers the guestutils functions, each with its Python signature.
fn add_guest_functions(env: &mut Environment<'static>, guest: Arc<GuestEnv>) {
    let g = guest.clone();
    env.add_function(
        "get_environment_name",
        move |args: Rest<Value>, kwargs: Kwargs| {
            bind("get_environment_name", &[], &args, kwargs)?;
            Ok(Value::from(g.environment_name()))
        },
    );
    let g = guest.clone();
    env.add_function(
        "get_service_name",
        move |args: Rest<Value>, kwargs: Kwargs| {
            bind("get_service_name", &[], &args, kwargs)?;
            text(g.service_name())
        },
    );
    let g = guest.clone();
    env.add_function(
        "get_container_name",
        move |args: Rest<Value>, kwargs: Kwargs| {
            bind("get_container_name", &[], &args, kwargs)?;
            text(g.container_name())
        },
    );
    let g = guest.clone();
    env.add_function(
        "get_container_host_address",
        move |args: Rest<Value>, kwargs: Kwargs| {
            let [as_ip_address] = bind(
                "get_container_host_address",
                &["as_ip_address?"],
                &args,
                kwargs,
            )?;
            if !as_ip_address.is_some_and(|v| v.is_true()) {
                return text(g.host_address());
            }
            // Python resolves first (`socket.gethostbyname('')` is 0.0.0.0),
            // here with the system resolver (see `net`).
            match g.var(crate::contract::names::CONTAINER_HOST_ADDRESS) {
                Some("") => Ok(Value::from("0.0.0.0")),
                Some(host) => crate::net::resolve_host(host)
                    .map(|ip| Value::from(ip.to_string()))
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidOperation,
                            format!(
                                "cannot resolve {host}: not an IP address, and neither /etc/hosts nor DNS knows it"
                            ),
                        )
                    }),
                None => text(g.host_address()),
            }
        },
    );
    env.add_function(
        "get_container_internal_address",
        |args: Rest<Value>, kwargs: Kwargs| {
            bind("get_container_internal_address", &[], &args, kwargs)?;
            crate::net::internal_address("eth0")
                .map(|ip| Value::from(ip.to_string()))
                .map_err(|message| Error::new(ErrorKind::InvalidOperation, message))
        },
    );
    let g = guest.clone();
    env.add_function("get_port", move |args: Rest<Value>, kwargs: Kwargs| {
        let [name, default] = bind("get_port", &["name", "default?"], &args, kwargs)?;
        port(g.port(&string(&name)?, optional(&default)?.as_deref()))
    });
    let g = guest.clone();
    env.add_function(
        "get_specific_host",
        move |args: Rest<Value>, kwargs: Kwargs| {
            let [service, container] = bind(
                "get_specific_host",
                &["service", "container"],
                &args,
                kwargs,
            )?;
            text(g.specific_host(&string(&service)?, &string(&container)?))
        },
    );
    let g = guest.clone();
    env.add_function(
        "get_specific_port",
        move |args: Rest<Value>, kwargs: Kwargs| {
            let [service, container, name, default] = bind(
                "get_specific_port",
                &["service", "container", "port", "default?"],
                &args,
                kwargs,
            )?;
            port(g.specific_port(
                &string(&service)?,
                &string(&container)?,
                &string(&name)?,
                optional(&default)?.as_deref(),
            ))
        },
    );
    let g = guest.clone();
    env.add_function(
        "get_specific_exposed_port",
        move |args: Rest<Value>, kwargs: Kwargs| {
            let [service, container, name, default] = bind(
                "get_specific_exposed_port",
                &["service", "container", "port", "default?"],
                &args,
                kwargs,
            )?;
            port(g.specific_exposed_port(
                &string(&service)?,
                &string(&container)?,
                &string(&name)?,
                optional(&default)?.as_deref(),
            ))
        },
    );
    env.add_function("get_node_list", move |args: Rest<Value>, kwargs: Kwargs| {
        let [service, ports, minimum] = bind(
            "get_node_list",
            &["service", "ports?", "minimum?"],
            &args,
            kwargs,
        )?;
        let ports = match ports {
            Some(ports) if !ports.is_none() => ports
                .try_iter()?
                .map(|port| string(&Some(port)))
                .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        let ports: Vec<&str> = ports.iter().map(String::as_str).collect();
        let minimum = match minimum {
            Some(minimum) => i64::try_from(minimum)?,
            None => 1,
        };
        let nodes = guest
            .node_list(&string(&service)?, &ports, minimum)
            .map_err(raise)?;
        Ok(Value::from(nodes))
    });
}

/// Binds positional and keyword arguments to `params` the way Python does;
/// a name ending in `?` is optional. Returns one slot per parameter.
fn bind<const N: usize>(
    function: &str,
    params: &[&str; N],
    positional: &[Value],
    kwargs: Kwargs,
) -> Result<[Option<Value>; N], Error> {
    let mut slots: [Option<Value>; N] = std::array::from_fn(|_| None);
    if positional.len() > N {
        return Err(type_error(format!(
            "{function}() takes at most {N} arguments ({} given)",
            positional.len()
        )));
    }
    for (slot, value) in slots.iter_mut().zip(positional) {
        *slot = Some(value.clone());
    }
    for key in kwargs.args() {
        let Some(index) = params.iter().position(|p| p.trim_end_matches('?') == key) else {
            return Err(type_error(format!(
                "{function}() got an unexpected keyword argument '{key}'"
            )));
        };
        if slots[index].is_some() {
            return Err(type_error(format!(
                "{function}() got multiple values for argument '{key}'"
            )));
        }
        slots[index] = Some(kwargs.get::<Value>(key)?);
    }
    for (slot, param) in slots.iter().zip(params) {
        if slot.is_none() && !param.ends_with('?') {
            return Err(type_error(format!(
                "{function}() missing required argument: '{param}'"
            )));
        }
    }
    Ok(slots)
}

fn type_error(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// A guestutils exception, as a template error with its exact message.
fn raise(error: ContractError) -> Error {
    Error::new(ErrorKind::InvalidOperation, error.0)
}

fn text(result: Result<&str, ContractError>) -> Result<Value, Error> {
    result.map(Value::from).map_err(raise)
}

/// A port as Python's `int`: a number when it fits, else its digits.
fn port(result: Result<PortNumber, ContractError>) -> Result<Value, Error> {
    let number = result.map_err(raise)?;
    Ok(match number.as_str().parse::<i64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(number.as_str()),
    })
}

/// A required string argument (names are passed through `str()` as
/// Python's `%s` formatting would).
fn string(value: &Option<Value>) -> Result<String, Error> {
    match value {
        Some(value) if value.is_undefined() => Err(Error::from(ErrorKind::UndefinedError)),
        Some(value) => Ok(value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned)),
        None => Ok(String::new()),
    }
}

/// An optional `default`: absent or `none` means no default.
fn optional(value: &Option<Value>) -> Result<Option<String>, Error> {
    match value {
        Some(value) if !value.is_none() => string(&Some(value.clone())).map(Some),
        _ => Ok(None),
    }
}

/// `env`: every environment variable, by name.
#[derive(Debug)]
struct EnvVars(HashMap<String, String>);

impl Object for EnvVars {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        Some(match self.0.get(name) {
            Some(value) => Value::from(value.as_str()),
            None => Value::from_object(MissingVar(name.to_owned())),
        })
    }
}

/// A variable `env` does not have: falsy, undefined to `default` and
/// `is defined`, an error when printed.
#[derive(Debug)]
struct MissingVar(String);

impl Object for MissingVar {
    fn is_true(self: &Arc<Self>) -> bool {
        false
    }
}

fn missing_var(value: &Value) -> Option<&MissingVar> {
    value.downcast_object_ref::<MissingVar>()
}

fn is_defined(value: &Value) -> bool {
    !value.is_undefined() && missing_var(value).is_none()
}

/// Jinja's `default(value, default_value='', boolean=false)`, also for
/// missing `env` keys.
fn default(value: &Value, args: &[Value]) -> Result<Value, Error> {
    let (other, lax): (Option<Value>, Option<bool>) = from_args(args)?;
    let other = other.unwrap_or_else(|| Value::from(""));
    if !is_defined(value) || (lax.unwrap_or(false) && !value.is_true()) {
        Ok(other)
    } else {
        Ok(value.clone())
    }
}

/// Prints values as usual, but a missing `env` key is an error naming it.
fn format_value(
    out: &mut minijinja::Output,
    state: &mut State,
    value: &Value,
) -> Result<(), Error> {
    if let Some(missing) = missing_var(value) {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            format!(
                "`env.{}` is undefined (use `env.{0} or 'x'` or `env.{0} | default('x')`)",
                missing.0
            ),
        ));
    }
    minijinja::escape_formatter(out, state, value)
}
