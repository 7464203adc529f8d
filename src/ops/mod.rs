//! Operations: what each kcdev command does, combining the container, Keycloak and state
//! modules. Takes plain option structs and returns serializable reports; prints nothing.

mod down;
mod error;
mod logs;
mod settings;
mod status;
mod up;

pub use down::{DownOptions, DownReport, down};
pub use error::OpsError;
pub use logs::{LogsOptions, logs};
pub use settings::{InstanceContext, ResolvedSettings, TestUser};
pub use status::{ContainerReport, RealmStatus, StatusReport, status};
pub use up::{ContainerAction, UpOptions, UpReport, up};
