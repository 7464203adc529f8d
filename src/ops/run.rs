use std::path::Path;

use super::OpsError;
use super::env::ServerEnv;
use super::settings::InstanceContext;
use crate::realm::resource_url_of;
use crate::scaffold::{Language, LaunchStep, launch_plan};

/// How to run a generated server against the instance's realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLaunch {
    pub language: Language,
    /// Preparation first, the server last.
    pub steps: Vec<LaunchStep>,
    /// Environment for every step: the realm's values.
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
    let language = Language::detect(dir).ok_or_else(|| OpsError::NoProject {
        dir: dir.to_owned(),
    })?;
    context.require_up().await?;
    let server_url = context.endpoints()?.server(server)?;
    Ok(ServerLaunch {
        language,
        steps: launch_plan(language, dir)?,
        env: ServerEnv::of(context, Some(&server_url))?.variables,
        resource_url: resource_url_of(&server_url),
    })
}
