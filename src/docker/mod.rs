//! The container side of kcdev, over the Docker Engine API (bollard): connecting to the engine,
//! images and their Keycloak version, the Keycloak container as a typed request, its lifecycle
//! and readiness. Knows nothing of realms or of the terminal.

mod boot;
mod container;
mod derive;
mod discover;
mod engine;
mod error;
mod image;
mod jvm;
mod lifecycle;
mod provider;
mod wait;

pub use boot::{
    BUILT_LABEL, Boot, BootMode, BuildOptions, DERIVED_REPOSITORY, DerivedNames, SEEDED_LABEL,
};
pub use container::{
    ContainerStatus, KeycloakContainer, ObservedContainer, SettingDifference, format_bytes,
};
pub use derive::{LABEL_DERIVED_KEY, OptimizedImages, SeedRealm};
pub use engine::{DEFAULT_DOCKER_HOST, Engine, default_host};
pub use error::{DockerError, PortPurpose};
pub use image::{ImageRef, ImageSummary, InvalidImageRef, PullPolicy, parse_keycloak_version};
pub use lifecycle::{LogStream, ensure_ports_free};
pub use wait::{ReadinessProbe, probe_ready};
