use std::path::PathBuf;

use crate::docker::{DockerError, SettingDifference};
use crate::keycloak::KeycloakApiError;
use crate::realm::RealmError;
use crate::state::StateError;

/// Failures of kcdev's operations.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// A container operation failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// Provisioning the realm failed.
    #[error(transparent)]
    Realm(#[from] RealmError),
    /// A Keycloak call failed.
    #[error(transparent)]
    Keycloak(#[from] KeycloakApiError),
    /// Reading or writing the state file failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The image reference cannot be parsed.
    #[error(transparent)]
    InvalidImage(#[from] crate::docker::InvalidImageRef),
    /// The image runs a Keycloak too old for MCP clients.
    #[error(
        "image {image} runs Keycloak {found}; kcdev needs {minimum} or later, because dynamic client registration is broken with MCP clients before {minimum} (keycloak PR #45309)"
    )]
    KeycloakTooOld {
        /// The image.
        image: String,
        /// Its Keycloak version.
        found: String,
        /// The oldest version kcdev accepts.
        minimum: String,
    },
    /// The existing container was made with other settings.
    #[error(
        "container {container} was created with different settings: {}",
        describe(differences)
    )]
    SettingsChanged {
        /// The container.
        container: String,
        /// What differs.
        differences: Vec<SettingDifference>,
    },
    /// Keycloak data exists but its admin password was lost with the state file.
    #[error("volume {volume} holds Keycloak data from an earlier `up`, but its admin password is gone (no state file at {})", state_path.display())]
    AdminPasswordUnknown {
        /// The data volume.
        volume: String,
        /// Where the state file should have been.
        state_path: PathBuf,
    },
    /// Scaffolding failed.
    #[error(transparent)]
    Scaffold(#[from] crate::scaffold::ScaffoldError),
    /// An OAuth step against the realm failed.
    #[error(transparent)]
    OAuth(#[from] crate::oauth::OAuthError),
    /// Writing a client's config file failed.
    #[error(transparent)]
    ClientConfigFile(#[from] crate::clients::MergeError),
    #[error(transparent)]
    RegistrationUnsupported(#[from] crate::clients::RegistrationUnsupported),
    #[error("{resource} is not the resource of any of the instance's MCP servers ({})", known.join(", "))]
    UnknownResource {
        resource: String,
        known: Vec<String>,
    },
    #[error("{server} is not one of the instance's MCP servers ({})", known.join(", "))]
    UnknownServer { server: String, known: Vec<String> },
    /// The directory holds no project of a language kcdev runs.
    #[error("{} has no Cargo.toml, pyproject.toml or package.json", dir.display())]
    NoProject {
        /// The directory.
        dir: PathBuf,
    },
    /// The instance has no Keycloak container.
    #[error("instance {instance} has no Keycloak container")]
    NotCreated {
        /// The instance.
        instance: String,
    },
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    #[error("no free port on 127.0.0.1 to give Keycloak")]
    NoFreePort,
    #[error("--port and --management-port are both {port}; Keycloak needs two different ports")]
    SamePorts { port: u16 },
    /// A new instance's seeded database came with a master-realm user, which kcdev never seeds.
    #[error(
        "Keycloak in container {container} refused to create the admin: its seeded database already has a master-realm user"
    )]
    SeededAdminExists { container: String },
    /// A flag value kcdev refuses before changing anything.
    #[error("invalid {flag} {value:?}: expected {expected}")]
    InvalidOption {
        flag: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A CA file given with `--ca-cert` cannot be used.
    #[error(transparent)]
    Trust(#[from] crate::trust::TrustError),
    /// A server kcdev does not run, and no admin login in the environment.
    #[error("no admin login for the Keycloak at {url}")]
    NoAdminLogin { url: String },
    /// The server runs a Keycloak too old for MCP clients.
    #[error(
        "the Keycloak at {url} is version {found}; kcdev needs {minimum} or later, because dynamic client registration is broken with MCP clients before {minimum} (keycloak PR #45309)"
    )]
    ServerTooOld {
        url: String,
        found: String,
        minimum: String,
    },
    /// `--reset-realm` on a server kcdev does not run, without the realm's name spelled out.
    #[error("refusing to delete realm {realm} on {url} without its name spelled out")]
    ResetNeedsRealmName { realm: String, url: String },
    /// `--keycloak-url` for an instance that runs a container.
    #[error(
        "instance {instance} runs a Keycloak container; it cannot also point at another server"
    )]
    InstanceRunsContainer { instance: String },
    /// A container operation on an instance whose Keycloak kcdev does not run.
    #[error("kcdev does not run the Keycloak at {url}: it has no container")]
    NotManaged { url: String },
    /// The export could not be rendered.
    #[error("cannot render the export: {0}")]
    Export(String),
    /// The realm records no events for `kcdev events`.
    #[error("realm {realm} records no events")]
    EventsOff { realm: String, managed: bool },
    /// The instance's Keycloak is not running and ready.
    #[error("the Keycloak of instance {instance} is not running")]
    NotRunning {
        /// The instance.
        instance: String,
    },
}

fn describe(differences: &[SettingDifference]) -> String {
    differences
        .iter()
        .map(|d| format!("{} is {}, wanted {}", d.setting, d.current, d.wanted))
        .collect::<Vec<_>>()
        .join("; ")
}
