use super::OpsError;
use super::settings::InstanceContext;
use crate::docker::LogStream;

/// What `kcdev logs` was asked to do.
#[derive(Debug, Clone)]
pub struct LogsOptions {
    /// Instance, engine and state directory.
    pub context: InstanceContext,
    /// Keep streaming new output.
    pub follow: bool,
    /// Start with only the last N lines.
    pub tail: Option<usize>,
}

/// The Keycloak container's log output.
pub async fn logs(options: LogsOptions) -> Result<LogStream, OpsError> {
    let context = &options.context;
    if let Some(state) = context.load_state()?
        && let crate::state::KeycloakSettings::Server { server } = state.keycloak
    {
        return Err(OpsError::NotManaged { url: server.url });
    }
    let engine = context.engine().await?;
    let container = engine
        .find_container(&context.instance)
        .await?
        .ok_or_else(|| OpsError::NotCreated {
            instance: context.instance.to_string(),
        })?;
    Ok(engine.logs(&container.id, options.follow, options.tail))
}
