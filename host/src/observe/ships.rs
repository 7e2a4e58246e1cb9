//! Connecting the ships a read-only command needs, all at once.
//!
//! A ship that cannot be reached does not stop the command: its containers
//! are reported as on a ship that is down.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::future::join_all;

use crate::config::model::{self, Connection, Environment};
use crate::docker::{DockerError, Ship};
use crate::spec::{ApiVersion, ShipEndpoint, ShipTransport, TlsSettings};

/// How to reach a configured ship's daemon; an error for what this build
/// cannot do yet (SSH tunnels).
pub fn endpoint(ship: &model::Ship) -> Result<ShipEndpoint, String> {
    let transport = match ship.connection() {
        Connection::Unix(path) => ShipTransport::Unix { path },
        Connection::Tcp {
            host,
            port,
            https: false,
        } => ShipTransport::Tcp { host, port },
        Connection::Tcp {
            host,
            port,
            https: true,
        } => {
            let tls = ship.tls.as_ref();
            ShipTransport::Tls {
                host,
                port,
                tls: TlsSettings {
                    ca_cert: tls.and_then(|t| t.ca_cert.clone()),
                    client_cert: tls.and_then(|t| t.cert.clone()),
                    client_key: tls.and_then(|t| t.key.clone()),
                    verify: tls.is_some_and(|t| t.verify),
                    server_name: None,
                },
            }
        }
        Connection::SshTunnel { .. } => {
            return Err(format!(
                "ship {}: SSH tunnels are not supported by this command yet",
                ship.name
            ));
        }
    };
    Ok(ShipEndpoint {
        ship: ship.name.clone(),
        transport,
        api_version: match &ship.api_version {
            model::ApiVersion::Fixed(v) => ApiVersion::Pinned(v.clone()),
            // MaestroNG pins 1.18 by default, which no current daemon speaks.
            model::ApiVersion::Default | model::ApiVersion::Auto => ApiVersion::Auto,
        },
        timeout: Duration::from_secs_f64(ship.timeout_secs.clamp(1.0, 3600.0)),
    })
}

/// Connects every named ship at the same time; each gets its ship or the
/// reason it cannot be used.
pub async fn connect_all(
    env: &Environment,
    names: impl IntoIterator<Item = String>,
) -> BTreeMap<String, Result<Ship, String>> {
    let names: Vec<String> = names.into_iter().collect();
    let tries = names.iter().map(|name| async move {
        let Some(ship) = env.ships.iter().find(|s| &s.name == name) else {
            return Err(format!("ship {name}: not in the configuration"));
        };
        let ep = endpoint(ship)?;
        Ship::connect(&ep)
            .await
            .map_err(|e: DockerError| e.to_string())
    });
    let results = join_all(tries).await;
    names.into_iter().zip(results).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ship(yaml_ship: &str) -> model::Ship {
        let yaml = format!("name: t\nships:\n  s: {yaml_ship}\nservices: {{}}\n");
        let loaded = crate::config::load(
            &crate::config::Source::Text {
                text: yaml,
                name: "t.yaml".into(),
                base_dir: "/".into(),
            },
            crate::config::Options::default(),
        )
        .expect("valid");
        loaded.environment.ships[0].clone()
    }

    #[test]
    fn endpoints_follow_the_ship_settings() {
        let ep = endpoint(&ship("{ip: 10.0.0.1, timeout: 7}")).unwrap();
        assert_eq!(
            ep.transport,
            ShipTransport::Tcp {
                host: "10.0.0.1".into(),
                port: 2375
            }
        );
        assert_eq!(ep.timeout, Duration::from_secs(7));
        assert_eq!(ep.api_version, ApiVersion::Auto);
        let ep = endpoint(&ship(
            "{ip: a, socket_path: /run/d.sock, api_version: '1.41'}",
        ))
        .unwrap();
        assert_eq!(
            ep.transport,
            ShipTransport::Unix {
                path: "/run/d.sock".into()
            }
        );
        assert_eq!(ep.api_version, ApiVersion::Pinned("1.41".into()));
        let ep = endpoint(&ship(
            "{ip: h, tls: true, tls_verify: true, tls_ca_cert: /ca.pem}",
        ))
        .unwrap();
        let ShipTransport::Tls { port, tls, .. } = ep.transport else {
            panic!("tls expected")
        };
        assert_eq!(port, 2376);
        assert!(tls.verify);
        assert_eq!(tls.ca_cert, Some("/ca.pem".into()));
    }
}
