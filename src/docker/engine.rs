use std::collections::HashMap;
#[cfg(target_os = "macos")]
use std::path::Path;

use bollard::Docker;
use bollard::models::{ContainerInspectResponse, ContainerSummary};
use bollard::query_parameters::ListContainersOptionsBuilder;

use super::DockerError;
#[cfg(any(target_os = "macos", windows))]
use super::discover;

/// The engine address used when `DOCKER_HOST` is not set (on macOS and Windows: when the
/// docker CLI's context and the engines' own sockets name none either, see [`default_host`]).
#[cfg(unix)]
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";
/// The engine address used when `DOCKER_HOST` is not set (on macOS and Windows: when the
/// docker CLI's context and the engines' own sockets name none either, see [`default_host`]).
#[cfg(windows)]
pub const DEFAULT_DOCKER_HOST: &str = "npipe:////./pipe/docker_engine";

/// Where to reach the engine when `DOCKER_HOST` is not set.
#[cfg(not(any(target_os = "macos", windows)))]
pub fn default_host() -> String {
    DEFAULT_DOCKER_HOST.to_owned()
}

/// Where to reach the engine when `DOCKER_HOST` is not set: the docker CLI's current context,
/// then the first socket a macOS engine made, then the system socket.
#[cfg(target_os = "macos")]
pub fn default_host() -> String {
    let env = discover::Environment::current();
    discover::context_host(&env)
        .or_else(|| discover::first_socket(&discover::macos_sockets(&env), Path::exists))
        .unwrap_or_else(|| DEFAULT_DOCKER_HOST.to_owned())
}

/// Where to reach the engine when `DOCKER_HOST` is not set: the docker CLI's current context,
/// then Docker Desktop's pipe.
#[cfg(windows)]
pub fn default_host() -> String {
    discover::context_host(&discover::Environment::current())
        .unwrap_or_else(|| DEFAULT_DOCKER_HOST.to_owned())
}

/// A connection to a Docker-compatible engine (Docker, or Podman's compatible socket).
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) docker: Docker,
    endpoint: String,
}

impl Engine {
    /// Connects to `docker_host` (the value of `DOCKER_HOST`, if set) or [`default_host`],
    /// negotiates the API version and checks that the engine answers.
    pub async fn connect(docker_host: Option<&str>) -> Result<Self, DockerError> {
        let endpoint = docker_host
            .filter(|host| !host.is_empty())
            .map_or_else(default_host, str::to_owned);
        let unreachable = |source| DockerError::EngineUnreachable {
            endpoint: endpoint.clone(),
            source,
        };
        let docker = Docker::connect_with_host(&endpoint).map_err(unreachable)?;
        // Negotiation talks to the engine; its failure means the same as a failed ping.
        let docker = docker.negotiate_version().await.map_err(unreachable)?;
        docker.ping().await.map_err(unreachable)?;
        Ok(Self { docker, endpoint })
    }

    /// The socket or URL this engine was reached at.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every container (running or not) matching `filters`, as the Docker API filters them.
    pub(crate) async fn list_all_containers(
        &self,
        filters: &HashMap<String, Vec<String>>,
    ) -> Result<Vec<ContainerSummary>, bollard::errors::Error> {
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(filters)
            .build();
        match self.docker.list_containers(Some(options)).await {
            Err(err) if is_podman_stopped_state(&err) => {
                let query = [
                    ("all", "true".to_owned()),
                    ("filters", serde_json::json!(filters).to_string()),
                ];
                self.get_json("/containers/json", &query, |listed| {
                    for container in listed.as_array_mut().into_iter().flatten() {
                        name_state_as_docker_does(container.get_mut("State"));
                    }
                })
                .await
                .ok_or(err)
            }
            listed => listed,
        }
    }

    /// A container's inspection, as bollard reads it, even in Podman's `stopped` state.
    pub(crate) async fn inspect(
        &self,
        id: &str,
    ) -> Result<ContainerInspectResponse, bollard::errors::Error> {
        match self.docker.inspect_container(id, None).await {
            Err(err) if is_podman_stopped_state(&err) => {
                let path = format!("/containers/{id}/json");
                self.get_json(&path, &[], |inspect| {
                    name_state_as_docker_does(inspect.pointer_mut("/State/Status"));
                })
                .await
                .ok_or(err)
            }
            inspect => inspect,
        }
    }

    /// An API call bollard would make, read as plain JSON and edited by `edit` before it is
    /// read as bollard reads it; `None` where the engine is reached otherwise than by a Unix
    /// socket or plain HTTP, does not answer, or answers what bollard could not read either.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        edit: impl FnOnce(&mut serde_json::Value),
    ) -> Option<T> {
        let (client, base) = self.plain_http()?;
        let mut answer: serde_json::Value = client
            .get(format!("{base}{path}"))
            .query(query)
            .send()
            .await
            .ok()?
            .error_for_status()
            .ok()?
            .json()
            .await
            .ok()?;
        edit(&mut answer);
        serde_json::from_value(answer).ok()
    }

    /// A client for the engine's API, and its base URL.
    fn plain_http(&self) -> Option<(reqwest::Client, String)> {
        #[cfg(unix)]
        if let Some(socket) = self.endpoint.strip_prefix("unix://") {
            let client = reqwest::Client::builder()
                .unix_socket(socket)
                .build()
                .ok()?;
            return Some((client, "http://localhost".to_owned()));
        }
        let address = self
            .endpoint
            .strip_prefix("tcp://")
            .or_else(|| self.endpoint.strip_prefix("http://"))?;
        Some((reqwest::Client::new(), format!("http://{address}")))
    }
}

/// Podman's `stopped` state (the process ended, its cleanup has not run yet) is not one the
/// Docker API knows, and bollard cannot read a container in it. Where Podman's cleanup cannot
/// run, a container stays `stopped` for good, so waiting for `exited` is no answer: kcdev reads
/// such answers as plain JSON and names the state as Docker does.
fn is_podman_stopped_state(err: &bollard::errors::Error) -> bool {
    err.to_string().contains("unknown variant `stopped`")
}

fn name_state_as_docker_does(state: Option<&mut serde_json::Value>) {
    if let Some(state) = state
        && state == "stopped"
    {
        *state = "exited".into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn podmans_stopped_state_is_named_exited_and_dockers_are_kept() {
        let mut inspect = serde_json::json!({"State": {"Status": "stopped"}});
        name_state_as_docker_does(inspect.pointer_mut("/State/Status"));
        assert_eq!(inspect["State"]["Status"], "exited");
        let mut running = serde_json::json!("running");
        name_state_as_docker_does(Some(&mut running));
        assert_eq!(running, "running");
    }

    #[test]
    fn a_renamed_inspection_reads_as_bollard_reads_it() {
        let mut inspect = serde_json::json!({
            "Id": "abc",
            "State": {"Status": "stopped", "Running": false, "ExitCode": 3},
        });
        name_state_as_docker_does(inspect.pointer_mut("/State/Status"));
        let read: ContainerInspectResponse = serde_json::from_value(inspect).unwrap();
        let state = read.state.unwrap();
        assert_eq!(
            state.status,
            Some(bollard::models::ContainerStateStatusEnum::EXITED)
        );
        assert_eq!(state.exit_code, Some(3));
    }
}
