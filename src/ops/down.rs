use serde::Serialize;

use std::time::Duration;

use super::OpsError;
use super::settings::InstanceContext;
use crate::lock::InstanceLock;
use crate::progress::Reporter;

/// Seconds Keycloak gets to shut down cleanly.
const STOP_GRACE_SECONDS: i32 = 10;

/// How long `down` waits for an `up` of the same instance to finish (its default readiness
/// timeout and provisioning).
const LOCK_WAIT: Duration = Duration::from_secs(300);

/// What `kcdev down` was asked to do.
#[derive(Debug, Clone)]
pub struct DownOptions {
    /// Instance, engine and state directory.
    pub context: InstanceContext,
    /// Also remove the data volume and the state file.
    pub volumes: bool,
}

/// What `kcdev down` removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DownReport {
    /// Instance name.
    pub instance: String,
    /// The container removed, if there was one.
    pub container_removed: Option<String>,
    /// Volumes removed.
    pub volumes_removed: Vec<String>,
    /// Whether the state file was removed.
    pub state_removed: bool,
    /// Whether data was kept for the next `up`.
    pub data_kept: bool,
    /// For a server kcdev does not run: its URL. Nothing there was stopped or deleted.
    pub server: Option<String>,
}

/// Stops and removes the instance's container; with `volumes`, its data and state too. Finding
/// nothing to remove is not an error.
pub async fn down(options: DownOptions, reporter: &dyn Reporter) -> Result<DownReport, OpsError> {
    let context = &options.context;
    if let Some(state) = context.load_state()?
        && let crate::state::KeycloakSettings::Server { server } = &state.keycloak
    {
        // Not kcdev's to stop, and its realm is shared: `down` only forgets it, when asked.
        let state_removed = options.volumes && context.state.delete(&context.instance)?;
        return Ok(DownReport {
            instance: context.instance.to_string(),
            container_removed: None,
            volumes_removed: vec![],
            state_removed,
            data_kept: true,
            server: Some(server.url.clone()),
        });
    }
    let engine = context.engine().await?;
    let _lock = InstanceLock::acquire(
        &context.state,
        &context.instance,
        "down",
        LOCK_WAIT,
        reporter,
    )
    .await?;
    let container = engine.find_container(&context.instance).await?;
    if let Some(container) = &container {
        engine.stop(&container.id, STOP_GRACE_SECONDS).await?;
        engine.remove_container(&container.id).await?;
    }
    let (volumes_removed, state_removed) = if options.volumes {
        let volumes = engine.remove_volumes(&context.instance).await?;
        (volumes, context.state.delete(&context.instance)?)
    } else {
        (Vec::new(), false)
    };
    Ok(DownReport {
        instance: context.instance.to_string(),
        container_removed: container.map(|c| c.name),
        volumes_removed,
        state_removed,
        data_kept: !options.volumes,
        server: None,
    })
}
