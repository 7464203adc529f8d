use std::time::Duration;

/// Which of Keycloak's two published ports a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortPurpose {
    /// Keycloak's HTTP listener (issuer, login pages, admin API).
    Http,
    /// Keycloak's management interface (health).
    Management,
}

/// Failures of container operations, one variant per thing that can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// No Docker engine answered at the endpoint.
    #[error("cannot reach the Docker engine at {endpoint}")]
    EngineUnreachable {
        /// The socket or URL tried.
        endpoint: String,
        /// What bollard reported.
        #[source]
        source: bollard::errors::Error,
    },
    /// `--pull never` and the image is not present.
    #[error("image {image} is not present locally and pulling is disabled")]
    ImageMissing {
        /// The image reference.
        image: String,
    },
    /// The engine could not pull the image.
    #[error("cannot pull image {image}")]
    Pull {
        /// The image reference.
        image: String,
        /// What the engine reported.
        #[source]
        source: bollard::errors::Error,
    },
    /// A port kcdev wants to publish is in use on 127.0.0.1.
    #[error("port {port} on 127.0.0.1 is already in use")]
    PortTaken {
        /// The busy port.
        port: u16,
        /// Which of Keycloak's ports wanted it.
        purpose: PortPurpose,
    },
    /// Another engine call failed.
    #[error("cannot {operation} {target}")]
    Operation {
        /// What was being done ("create container", "start container", ...).
        operation: &'static str,
        /// The object it was done to.
        target: String,
        /// What the engine reported.
        #[source]
        source: bollard::errors::Error,
    },
    /// The container stopped while Keycloak was starting.
    #[error("the Keycloak container exited during start (exit code {exit_code}{oom})", oom = if *oom_killed { ", killed for exceeding its memory limit" } else { "" })]
    ExitedDuringStart {
        /// The container's exit code.
        exit_code: i64,
        /// Whether the kernel killed it for exceeding its memory limit.
        oom_killed: bool,
        /// The last lines it logged.
        log_tail: Vec<String>,
    },
    /// A tar archive that carries a file of kcdev's into a container (its Keycloak provider, the
    /// default realm for the seeding) could not be written (in memory: a bug, not the machine).
    #[error("cannot pack {what} for the container")]
    ProviderArchive {
        /// What the archive was to carry.
        what: &'static str,
        /// What the archive writer reported.
        #[source]
        source: std::io::Error,
    },
    /// `kc.sh build` failed while kcdev derived its optimized image.
    #[error(
        "cannot derive the optimized image {image}: `kc.sh build` exited with code {exit_code}"
    )]
    DeriveFailed {
        image: String,
        exit_code: i64,
        log_tail: Vec<String>,
    },
    /// Keycloak did not report ready in time.
    #[error("Keycloak was not ready after {} s (last answer: {last_status})", waited.as_secs())]
    NotReady {
        /// How long kcdev waited.
        waited: Duration,
        /// The last thing the health endpoint answered.
        last_status: String,
        /// The last lines the container logged.
        log_tail: Vec<String>,
    },
}

impl DockerError {
    pub(crate) fn operation(
        operation: &'static str,
        target: impl Into<String>,
    ) -> impl FnOnce(bollard::errors::Error) -> Self {
        let target = target.into();
        move |source| Self::Operation {
            operation,
            target,
            source,
        }
    }

    /// The container's last log lines, for errors that carry them.
    pub fn log_tail(&self) -> &[String] {
        match self {
            Self::ExitedDuringStart { log_tail, .. }
            | Self::NotReady { log_tail, .. }
            | Self::DeriveFailed { log_tail, .. } => log_tail,
            _ => &[],
        }
    }
}

/// True when the engine answered 404 (no such container, image or volume).
pub(crate) fn is_not_found(err: &bollard::errors::Error) -> bool {
    matches!(
        err,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// True when the engine answered 409 (a container of that name exists already).
pub(crate) fn is_conflict(err: &bollard::errors::Error) -> bool {
    matches!(
        err,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
            ..
        }
    )
}
