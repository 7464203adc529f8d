#[cfg(target_os = "macos")]
use std::path::Path;

use bollard::Docker;

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
}
