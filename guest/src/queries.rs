//! Answers MaestroNG's guest functions (`maestro.guestutils`) from the shell.
//!
//! Each subcommand prints what the guestutils function returns, so that init
//! scripts can drop Python: the bare value on one line (a node list joined
//! with `,` or `--separator`), or with `--json` exactly what `json.dumps`
//! prints for the Python result. Where guestutils raises
//! `MaestroEnvironmentError`, the query prints `error: <its message>` on
//! stderr and exits 1. All the answers come from
//! [`maestro_guest::contract::GuestEnv`]; this module only formats them.

use std::io::Write;
use std::process::ExitCode;

use maestro_guest::contract::{ContractError, GuestEnv, PortNumber};

use crate::cli::{Output, Query, exit};
use crate::json;

/// A query's result, as the Python function would return it.
enum Answer {
    /// A `str`.
    Text(String),
    /// An `int` (a port).
    Number(PortNumber),
    /// A `list` of `str` (a node list), with the separator for plain output.
    List(Vec<String>, String),
    /// Already-formatted JSON (`info`).
    Json(String),
}

/// Runs one query against the process environment.
pub fn run(query: Query) -> ExitCode {
    let env = GuestEnv::from_process();
    match answer(&env, query) {
        Ok((answer, json)) => print(&render(answer, json)),
        Err(message) => fail(&message),
    }
}

/// The answer of `query` and whether it is wanted as JSON; the error is the
/// message for stderr.
fn answer(env: &GuestEnv, query: Query) -> Result<(Answer, bool), String> {
    let text = |value: Result<&str, ContractError>, output: Output| {
        value
            .map(|v| (Answer::Text(v.to_owned()), output.json))
            .map_err(|e| e.0)
    };
    let number = |value: Result<PortNumber, ContractError>, output: Output| {
        value
            .map(|v| (Answer::Number(v), output.json))
            .map_err(|e| e.0)
    };
    match query {
        Query::EnvironmentName(output) => text(Ok(env.environment_name()), output),
        Query::ServiceName(output) => text(env.service_name(), output),
        Query::ContainerName(output) => text(env.container_name(), output),
        Query::HostAddress(output) => text(env.host_address(), output),
        Query::InternalAddress(output) => {
            let address = maestro_guest::net::internal_address("eth0")?;
            Ok((Answer::Text(address.to_string()), output.json))
        }
        Query::Port {
            name,
            default,
            output,
        } => number(env.port(&name, default.as_deref()), output),
        Query::NodeList {
            service,
            ports,
            minimum,
            separator,
            output,
        } => {
            let ports: Vec<&str> = ports.iter().map(String::as_str).collect();
            let nodes = env.node_list(&service, &ports, minimum).map_err(|e| e.0)?;
            Ok((Answer::List(nodes, separator), output.json))
        }
        Query::SpecificHost {
            service,
            container,
            output,
        } => text(env.specific_host(&service, &container), output),
        Query::SpecificPort {
            service,
            container,
            port,
            default,
            output,
        } => number(
            env.specific_port(&service, &container, &port, default.as_deref()),
            output,
        ),
        Query::SpecificExposedPort {
            service,
            container,
            port,
            default,
            output,
        } => number(
            env.specific_exposed_port(&service, &container, &port, default.as_deref()),
            output,
        ),
        Query::Info(_) => Ok((Answer::Json(json::topology(&env.topology())), true)),
    }
}

/// The output line, without its newline.
fn render(answer: Answer, as_json: bool) -> String {
    match (answer, as_json) {
        (Answer::Text(text), false) => text,
        (Answer::Text(text), true) => json::string(&text),
        // Python's int prints the same in both forms.
        (Answer::Number(number), _) => number.as_str().to_owned(),
        (Answer::List(items, separator), false) => items.join(&separator),
        (Answer::List(items, _), true) => json::string_list(&items),
        (Answer::Json(text), _) => text,
    }
}

fn print(line: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(line.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("cannot write the answer: {e}")),
    }
}

fn fail(message: &str) -> ExitCode {
    // Ignore a failing stderr: there is nowhere left to report it.
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
    ExitCode::from(exit::FAILURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_bare_in_both_forms() {
        let port = || Answer::Number(PortNumber::parse_python_int(" 007 ").unwrap());
        assert_eq!(render(port(), false), "7");
        assert_eq!(render(port(), true), "7");
    }

    #[test]
    fn lists_join_or_dump() {
        let list = || Answer::List(vec!["a:1".into(), "b:2".into()], ";".into());
        assert_eq!(render(list(), false), "a:1;b:2");
        assert_eq!(render(list(), true), r#"["a:1", "b:2"]"#);
        assert_eq!(render(Answer::List(vec![], ",".into()), false), "");
    }
}
