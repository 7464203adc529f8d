use std::path::{Path, PathBuf};

use super::OpsError;
use super::env::ServerEnv;
use super::settings::InstanceContext;
use crate::realm::resource_url_of;

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

/// Checks that the instance is up and that `dir` holds a project, and returns how to run it as
/// `server` (one of the instance's server URLs; the primary one when `None`).
pub async fn prepare_run(
    context: &InstanceContext,
    dir: &Path,
    server: Option<&str>,
) -> Result<ServerLaunch, OpsError> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(OpsError::NoProject {
            dir: dir.to_owned(),
        });
    }
    context.require_up().await?;
    let server_url = context.endpoints()?.server(server)?;
    Ok(ServerLaunch {
        manifest,
        env: ServerEnv::of(context, Some(&server_url))?.variables,
        resource_url: resource_url_of(&server_url),
    })
}
