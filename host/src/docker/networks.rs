//! User-defined networks and named volumes on a connected [`Ship`]: inspect,
//! create, connect, list by label, remove. What to create and what to remove
//! is decided by `plan::resources`.

use std::collections::HashMap;

use bollard::models::{
    EndpointIpamConfig, EndpointSettings, Ipam, IpamConfig, NetworkConnectRequest,
    NetworkCreateRequest, VolumeCreateRequest,
};
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
    RemoveVolumeOptionsBuilder,
};

use super::error::DockerError;
use super::ship::Ship;
use crate::spec::{NetworkAttachment, NetworkSeen, NetworkSpec, VolumeSeen, VolumeSpec};

/// The endpoint settings of one attachment (aliases, fixed address).
pub(super) fn endpoint(attachment: &NetworkAttachment) -> EndpointSettings {
    EndpointSettings {
        aliases: Some(attachment.aliases.clone()),
        ipam_config: attachment
            .ipv4_address
            .as_ref()
            .map(|ip| EndpointIpamConfig {
                ipv4_address: Some(ip.clone()),
                ..Default::default()
            }),
        ..Default::default()
    }
}

/// Whether a bollard error is the daemon's "no such ..." answer.
fn not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl Ship {
    /// Inspects the network `name`; `Ok(None)` when there is none.
    pub async fn inspect_network(&self, name: &str) -> Result<Option<NetworkSeen>, DockerError> {
        let n = match self
            .docker()
            .inspect_network(
                name,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await
        {
            Ok(n) => n,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(self.error(format!("inspect network {name}"), e)),
        };
        Ok(Some(NetworkSeen {
            name: n.name.unwrap_or_else(|| name.to_owned()),
            driver: n.driver.unwrap_or_default(),
            options: n.options.unwrap_or_default().into_iter().collect(),
            internal: n.internal.unwrap_or(false),
            subnets: n
                .ipam
                .and_then(|i| i.config)
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.subnet, c.gateway))
                .collect(),
            labels: n.labels.unwrap_or_default().into_iter().collect(),
        }))
    }

    /// Creates a network as `spec` describes it.
    pub async fn create_network(&self, spec: &NetworkSpec) -> Result<(), DockerError> {
        let ipam = spec.subnet.as_ref().map(|subnet| Ipam {
            config: Some(vec![IpamConfig {
                subnet: Some(subnet.clone()),
                gateway: spec.gateway.clone(),
                ..Default::default()
            }]),
            ..Default::default()
        });
        let request = NetworkCreateRequest {
            name: spec.name.clone(),
            driver: Some(spec.driver.clone()),
            internal: Some(spec.internal),
            ipam,
            enable_ipv6: spec
                .subnet
                .as_ref()
                .is_some_and(|s| s.contains(':'))
                .then_some(true),
            options: Some(spec.options.clone().into_iter().collect()),
            labels: Some(spec.labels.clone().into_iter().collect()),
            ..Default::default()
        };
        self.docker()
            .create_network(request)
            .await
            .map(|_| ())
            .map_err(|e| self.error(format!("create network {}", spec.name), e))
    }

    /// Connects a created container to one more network (the create call takes
    /// only one on older engines).
    pub async fn connect_network(
        &self,
        container: &str,
        attachment: &NetworkAttachment,
    ) -> Result<(), DockerError> {
        self.docker()
            .connect_network(
                &attachment.network,
                NetworkConnectRequest {
                    container: container.to_owned(),
                    endpoint_config: Some(endpoint(attachment)),
                },
            )
            .await
            .map_err(|e| {
                self.error(
                    format!(
                        "connect container {container} to network {}",
                        attachment.network
                    ),
                    e,
                )
            })
    }

    /// The names of the networks labelled `key=value`, sorted.
    pub async fn networks_labelled(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<String>, DockerError> {
        let filters = HashMap::from([("label".to_owned(), vec![format!("{key}={value}")])]);
        let options = ListNetworksOptionsBuilder::default()
            .filters(&filters)
            .build();
        let mut names: Vec<String> = self
            .docker()
            .list_networks(Some(options))
            .await
            .map_err(|e| self.error("list networks", e))?
            .into_iter()
            .filter_map(|n| n.name)
            .collect();
        names.sort();
        Ok(names)
    }

    /// The names of the containers, stopped ones included, that `filter`
    /// (`network` or `volume`) says use `name`, sorted.
    pub async fn containers_using(
        &self,
        filter: &str,
        name: &str,
    ) -> Result<Vec<String>, DockerError> {
        let filters = HashMap::from([(filter.to_owned(), vec![name.to_owned()])]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let mut names: Vec<String> = self
            .docker()
            .list_containers(Some(options))
            .await
            .map_err(|e| self.error(format!("list containers using {filter} {name}"), e))?
            .into_iter()
            .filter_map(|c| c.names.and_then(|n| n.into_iter().next()))
            .map(|n| n.trim_start_matches('/').to_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Removes the network `name`.
    pub async fn remove_network(&self, name: &str) -> Result<(), DockerError> {
        self.docker()
            .remove_network(name)
            .await
            .map_err(|e| self.error(format!("remove network {name}"), e))
    }

    /// Inspects the named volume `name`; `Ok(None)` when there is none.
    pub async fn inspect_volume(&self, name: &str) -> Result<Option<VolumeSeen>, DockerError> {
        match self.docker().inspect_volume(name).await {
            Ok(v) => Ok(Some(VolumeSeen {
                name: v.name,
                driver: v.driver,
                options: v.options.into_iter().collect(),
                labels: v.labels.into_iter().collect(),
            })),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(self.error(format!("inspect volume {name}"), e)),
        }
    }

    /// Creates a named volume as `spec` describes it.
    pub async fn create_volume(&self, spec: &VolumeSpec) -> Result<(), DockerError> {
        let request = VolumeCreateRequest {
            name: Some(spec.name.clone()),
            driver: Some(spec.driver.clone()),
            driver_opts: Some(spec.driver_opts.clone().into_iter().collect()),
            labels: Some(spec.labels.clone().into_iter().collect()),
            ..Default::default()
        };
        self.docker()
            .create_volume(request)
            .await
            .map(|_| ())
            .map_err(|e| self.error(format!("create volume {}", spec.name), e))
    }

    /// The names of the volumes labelled `key=value`, sorted.
    pub async fn volumes_labelled(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<String>, DockerError> {
        let filters = HashMap::from([("label".to_owned(), vec![format!("{key}={value}")])]);
        let options = ListVolumesOptionsBuilder::default()
            .filters(&filters)
            .build();
        let mut names: Vec<String> = self
            .docker()
            .list_volumes(Some(options))
            .await
            .map_err(|e| self.error("list volumes", e))?
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect();
        names.sort();
        Ok(names)
    }

    /// Removes the named volume `name` (not forced: the daemon refuses one in use).
    pub async fn remove_volume(&self, name: &str) -> Result<(), DockerError> {
        let options = RemoveVolumeOptionsBuilder::default().force(false).build();
        self.docker()
            .remove_volume(name, Some(options))
            .await
            .map_err(|e| self.error(format!("remove volume {name}"), e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::ops::create_body;
    use crate::spec::{ContainerSpec, NetworkAttachment};

    #[test]
    fn the_create_body_joins_the_first_network_and_nothing_else_changes() {
        // Without networks (every MaestroNG 0.8.3 description): as before.
        let plain = ContainerSpec {
            name: "a".into(),
            network_mode: Some("host".into()),
            ..Default::default()
        };
        let body = create_body(&plain);
        assert!(body.networking_config.is_none());
        assert_eq!(
            body.host_config.unwrap().network_mode.as_deref(),
            Some("host")
        );
        let attach = |network: &str, ip: Option<&str>| NetworkAttachment {
            network: network.into(),
            aliases: vec!["a".into(), "svc".into()],
            ipv4_address: ip.map(str::to_owned),
        };
        let joined = ContainerSpec {
            name: "a".into(),
            networks: vec![attach("front", Some("10.1.0.5")), attach("back", None)],
            ..Default::default()
        };
        let body = create_body(&joined);
        assert_eq!(
            body.host_config.unwrap().network_mode.as_deref(),
            Some("front")
        );
        let endpoints = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(endpoints.len(), 1, "the others are joined after the create");
        let front = &endpoints["front"];
        assert_eq!(front.aliases.as_deref().unwrap(), ["a", "svc"]);
        assert_eq!(
            front.ipam_config.as_ref().unwrap().ipv4_address.as_deref(),
            Some("10.1.0.5")
        );
    }
}
