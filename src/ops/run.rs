use std::path::{Path, PathBuf};

use super::OpsError;
use super::env::ServerEnv;
use super::settings::{InstanceContext, ResolvedSettings};

/// How to run a generated server against the instance's realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLaunch {
    /// The project's manifest.
    pub manifest: PathBuf,
    /// Environment for the server: the realm's values.
    pub env: Vec<(String, String)>,
    /// The MCP endpoint it will serve.
    pub resource_url: String,
}

/// Checks that the instance is up and that `dir` holds a project, and returns how to run it.
pub async fn prepare_run(context: &InstanceContext, dir: &Path) -> Result<ServerLaunch, OpsError> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(OpsError::NoProject {
            dir: dir.to_owned(),
        });
    }
    let state = context.require_up().await?;
    let settings = ResolvedSettings::from_state(&state);
    Ok(ServerLaunch {
        manifest,
        env: ServerEnv::of(context)?.variables,
        resource_url: settings.realm_variables().resource_url(),
    })
}
