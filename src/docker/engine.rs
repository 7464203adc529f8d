use bollard::Docker;

use super::DockerError;

/// The engine address used when `DOCKER_HOST` is not set.
#[cfg(unix)]
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";
/// The engine address used when `DOCKER_HOST` is not set.
#[cfg(windows)]
pub const DEFAULT_DOCKER_HOST: &str = "npipe:////./pipe/docker_engine";

/// A connection to a Docker-compatible engine (Docker, or Podman's compatible socket).
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) docker: Docker,
    endpoint: String,
}

impl Engine {
    /// Connects to `docker_host` (the value of `DOCKER_HOST`, if set) or the default socket,
    /// negotiates the API version and checks that the engine answers.
    pub async fn connect(docker_host: Option<&str>) -> Result<Self, DockerError> {
        let endpoint = docker_host
            .filter(|host| !host.is_empty())
            .unwrap_or(DEFAULT_DOCKER_HOST)
            .to_owned();
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
}
