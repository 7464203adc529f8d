//! Operations: what each kcdev command does, combining the container, Keycloak and state
//! modules. Takes plain option structs and returns serializable reports; prints nothing.

mod client_config;
mod doctor;
mod down;
mod env;
mod error;
mod events;
mod export;
mod logs;
mod new_server;
mod plan;
mod prune;
mod run;
mod settings;
mod status;
mod token;
mod up;

pub use client_config::{ClientConfigOptions, ClientConfigReport, client_config};
pub use doctor::{Check, CheckStatus, DoctorOptions, DoctorReport, doctor};
pub use down::{DownOptions, DownReport, down};
pub use env::ServerEnv;
pub use error::OpsError;
pub use events::{EventFollower, EventsOptions, EventsReport, FOLLOW_INTERVAL, events};
pub use export::{ExportFormat, ExportOptions, ExportReport, export};
pub use logs::{LogsOptions, logs};
pub use new_server::{NewServerOptions, NewServerReport, ValuesSource, new_server};
pub use plan::{PlanReport, plan};
pub use prune::{PruneReport, prune};
pub use run::{ServerLaunch, prepare_run};
pub use settings::{
    EnvironmentSettings, InstanceContext, PortRequest, RegistrationPaths, ResolvedSettings,
    SettingOrigins, SettingSource, TestUser,
};
pub use status::{ContainerReport, RealmStatus, StatusReport, status};
pub use token::{KCDEV_CLIENT_ID, TokenOptions, TokenReport, token};
pub use up::{ContainerAction, McpSettings, UpKeycloak, UpOptions, UpReport, up};
