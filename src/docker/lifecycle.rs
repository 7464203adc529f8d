use std::pin::Pin;

use bollard::container::LogOutput;
use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListVolumesOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::{Stream, StreamExt, TryStreamExt};

use super::error::is_not_found;
use super::{Boot, DockerError, Engine, KeycloakContainer, ObservedContainer, PortPurpose};
use crate::instance::Instance;

/// Chunks of a container's log output (stdout and stderr interleaved as the engine sends them).
pub type LogStream = Pin<Box<dyn Stream<Item = Result<Vec<u8>, DockerError>> + Send>>;

/// Checks, before anything is created, that the ports kcdev would publish are free on 127.0.0.1.
pub fn ensure_ports_free(http_port: u16, management_port: u16) -> Result<(), DockerError> {
    for (port, purpose) in [
        (http_port, PortPurpose::Http),
        (management_port, PortPurpose::Management),
    ] {
        if !port_check::is_local_ipv4_port_free(port) {
            return Err(DockerError::PortTaken { port, purpose });
        }
    }
    Ok(())
}

fn port_conflict(err: &bollard::errors::Error, wanted: &KeycloakContainer) -> Option<DockerError> {
    let bollard::errors::Error::DockerResponseServerError { message, .. } = err else {
        return None;
    };
    let conflict = ["port is already allocated", "address already in use"]
        .iter()
        .any(|phrase| message.contains(phrase));
    if !conflict {
        return None;
    }
    let names = |port: u16| {
        message.contains(&format!(":{port} ")) || message.contains(&format!(":{port}:"))
    };
    let (port, purpose) = if names(wanted.management_port) && !names(wanted.http_port) {
        (wanted.management_port, PortPurpose::Management)
    } else {
        (wanted.http_port, PortPurpose::Http)
    };
    Some(DockerError::PortTaken { port, purpose })
}

impl Engine {
    /// The instance's Keycloak container, found by label, if it exists.
    pub async fn find_container(
        &self,
        instance: &Instance,
    ) -> Result<Option<ObservedContainer>, DockerError> {
        let listed = self
            .list_all_containers(&instance.label_filter())
            .await
            .map_err(DockerError::operation(
                "list containers of instance",
                instance.name(),
            ))?;
        let Some(id) = listed
            .into_iter()
            .filter(|summary| instance.owns(summary.labels.as_ref()))
            .find_map(|summary| summary.id)
        else {
            return Ok(None);
        };
        self.inspect_container(&id).await
    }

    /// A container by id or name, if it exists.
    pub async fn inspect_container(
        &self,
        id: &str,
    ) -> Result<Option<ObservedContainer>, DockerError> {
        match self.inspect(id).await {
            Ok(inspect) => Ok(Some(ObservedContainer::from_inspect(inspect))),
            Err(err) if is_not_found(&err) => Ok(None),
            Err(err) => Err(DockerError::operation("inspect container", id)(err)),
        }
    }

    /// Creates the data volume (kept if it exists) and the container, with kcdev's Keycloak
    /// provider in it; returns the container id.
    pub async fn create_keycloak(
        &self,
        wanted: &KeycloakContainer,
        boot: &Boot,
    ) -> Result<String, DockerError> {
        let volume = wanted.instance.volume_name();
        self.docker
            .create_volume(VolumeCreateRequest {
                name: Some(volume.clone()),
                labels: Some(wanted.instance.labels()),
                ..Default::default()
            })
            .await
            .map_err(DockerError::operation("create volume", &volume))?;
        let name = wanted.instance.container_name();
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = self
            .docker
            .create_container(Some(options), wanted.create_body(boot))
            .await
            .map_err(DockerError::operation("create container", &name))?;
        // A derived image has the provider built in; `start-dev` on the base image builds at
        // start, from what is in the providers directory then.
        if *boot == Boot::Dev
            && let Err(err) = self.install_provider(&created.id).await
        {
            let _ = self.remove_container(&created.id).await;
            return Err(err);
        }
        Ok(created.id)
    }

    /// Starts a created or stopped container.
    pub async fn start(&self, id: &str) -> Result<(), DockerError> {
        self.docker
            .start_container(id, None)
            .await
            .map_err(DockerError::operation("start container", id))
    }

    /// Starts the Keycloak container. The engine refuses when another container or process
    /// bound one of its host ports since the ports were checked (two `up`s racing for a port):
    /// that is reported as the port being taken, naming which one.
    pub async fn start_published(
        &self,
        id: &str,
        wanted: &KeycloakContainer,
    ) -> Result<(), DockerError> {
        self.docker.start_container(id, None).await.map_err(|err| {
            port_conflict(&err, wanted)
                .unwrap_or_else(|| DockerError::operation("start container", id)(err))
        })
    }

    /// Stops a container, giving Keycloak `grace_seconds` to shut down cleanly.
    pub async fn stop(&self, id: &str, grace_seconds: i32) -> Result<(), DockerError> {
        let options = StopContainerOptionsBuilder::default()
            .t(grace_seconds)
            .build();
        match self.docker.stop_container(id, Some(options)).await {
            Err(err) if !is_not_found(&err) => {
                Err(DockerError::operation("stop container", id)(err))
            }
            _ => Ok(()),
        }
    }

    /// Removes a container (its volume stays); a container already gone is fine.
    pub async fn remove_container(&self, id: &str) -> Result<(), DockerError> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(false)
            .build();
        match self.docker.remove_container(id, Some(options)).await {
            Err(err) if !is_not_found(&err) => {
                Err(DockerError::operation("remove container", id)(err))
            }
            _ => Ok(()),
        }
    }

    /// Removes the instance's volumes; returns their names.
    pub async fn remove_volumes(&self, instance: &Instance) -> Result<Vec<String>, DockerError> {
        let options = ListVolumesOptionsBuilder::default()
            .filters(&instance.label_filter())
            .build();
        let listed =
            self.docker
                .list_volumes(Some(options))
                .await
                .map_err(DockerError::operation(
                    "list volumes of instance",
                    instance.name(),
                ))?;
        let mut removed = Vec::new();
        let volumes = listed.volumes.unwrap_or_default();
        for volume in volumes
            .into_iter()
            .filter(|volume| instance.owns(Some(&volume.labels)))
        {
            let options = RemoveVolumeOptionsBuilder::default().force(true).build();
            match self.docker.remove_volume(&volume.name, Some(options)).await {
                Ok(()) => removed.push(volume.name),
                Err(err) if is_not_found(&err) => {}
                Err(err) => return Err(DockerError::operation("remove volume", &volume.name)(err)),
            }
        }
        Ok(removed)
    }

    /// Whether the instance's data volume exists.
    pub async fn volume_exists(&self, instance: &Instance) -> Result<bool, DockerError> {
        let name = instance.volume_name();
        match self.docker.inspect_volume(&name).await {
            Ok(_) => Ok(true),
            Err(err) if is_not_found(&err) => Ok(false),
            Err(err) => Err(DockerError::operation("inspect volume", &name)(err)),
        }
    }

    /// The container's log output; `tail` limits how many past lines come first.
    pub fn logs(&self, id: &str, follow: bool, tail: Option<usize>) -> LogStream {
        let tail = tail.map_or_else(|| "all".to_owned(), |n| n.to_string());
        let options = LogsOptionsBuilder::default()
            .follow(follow)
            .stdout(true)
            .stderr(true)
            .tail(&tail)
            .build();
        let target = id.to_owned();
        self.docker
            .logs(id, Some(options))
            .map_ok(|output| match output {
                LogOutput::StdOut { message }
                | LogOutput::StdErr { message }
                | LogOutput::StdIn { message }
                | LogOutput::Console { message } => message.to_vec(),
            })
            .map_err(move |err| DockerError::operation("read the logs of container", &target)(err))
            .boxed()
    }

    /// The lines the container logged since `since`, each prefixed with the engine's RFC 3339
    /// timestamp of when it was written (`2026-12-04T14:53:10.067412000Z <line>`), whatever
    /// format the program inside logs its own time in.
    pub async fn log_lines_since(
        &self,
        id: &str,
        since: std::time::SystemTime,
    ) -> Result<Vec<String>, DockerError> {
        let seconds = since
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| i32::try_from(elapsed.as_secs()).unwrap_or(i32::MAX))
            .unwrap_or_default();
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .timestamps(true)
            .since(seconds)
            .build();
        let chunks: Vec<Vec<u8>> = self
            .docker
            .logs(id, Some(options))
            .map_ok(|output| output.into_bytes().to_vec())
            .try_collect()
            .await
            .map_err(DockerError::operation("read the logs of container", id))?;
        Ok(String::from_utf8_lossy(&chunks.concat())
            .lines()
            .map(str::to_owned)
            .collect())
    }

    /// The last `lines` lines the container logged (empty if they cannot be read).
    pub async fn log_tail(&self, id: &str, lines: usize) -> Vec<String> {
        let chunks: Vec<Vec<u8>> = self
            .logs(id, false, Some(lines))
            .take_while(|chunk| futures_util::future::ready(chunk.is_ok()))
            .filter_map(|chunk| futures_util::future::ready(chunk.ok()))
            .collect()
            .await;
        String::from_utf8_lossy(&chunks.concat())
            .lines()
            .map(str::to_owned)
            .collect()
    }
}
