use std::path::PathBuf;

use serde::Serialize;

use super::OpsError;
use super::env::ServerScopes;
use super::settings::InstanceContext;
use crate::clients::{
    Client, ClientConfig, ConfigDirs, ConfigScope, ConnectionValues, MergeOutcome, Registration,
    merge_entry,
};
use crate::realm::{RealmSpec, RealmVariables};

/// What `kcdev client-config` was asked to do.
#[derive(Debug, Clone)]
pub struct ClientConfigOptions {
    /// Instance whose realm and server URL are used.
    pub context: InstanceContext,
    /// The client.
    pub client: Client,
    /// The entry's name in the client's config.
    pub name: String,
    /// How the client gets its client id (`None`: the client's default).
    pub registration: Option<Registration>,
    /// Server base URL, instead of the instance's.
    pub server_url: Option<String>,
    /// Merge the entry into this file (`Some(None)`: the client's usual file).
    pub write: Option<Option<PathBuf>>,
    /// The user's or the project's file, for clients that have both (`None`: the client's
    /// default).
    pub scope: Option<ConfigScope>,
}

/// A client's configuration, and what `--write` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientConfigReport {
    /// The configuration.
    pub config: ClientConfig,
    /// The values it was built from.
    pub values: ConnectionValues,
    /// The file written and what happened to it.
    pub written: Option<(PathBuf, MergeOutcome)>,
}

/// The entry name lands in JSON keys and in shell commands kcdev prints (`claude mcp add NAME`),
/// so it is held to what every client accepts as a server name.
fn check_entry_name(name: &str) -> Result<(), OpsError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(OpsError::InvalidOption {
            flag: "--name",
            value: name.to_owned(),
            expected: "1 to 64 letters, digits, '-', '_' or '.'",
        })
    }
}

/// Builds the client's configuration from the instance (or defaults), and writes it if asked.
pub fn client_config(options: ClientConfigOptions) -> Result<ClientConfigReport, OpsError> {
    check_entry_name(&options.name)?;
    let endpoints = options.context.endpoints()?;
    let (issuer, mut server_url, user_password) = (
        endpoints.issuer,
        endpoints.server_url,
        endpoints.user_password,
    );
    if let Some(flag) = options.server_url {
        server_url = flag;
    }
    let state = options.context.load_state()?;
    let declared = options
        .context
        .settings_without_flags(state.as_ref())?
        .realm
        .declared;
    let variables = RealmVariables {
        server_url: server_url.trim_end_matches('/').to_owned(),
        user_password: user_password.clone(),
        declared,
        ..RealmVariables::default()
    };
    // Validates the URL, and names the scopes from the one place that defines them.
    let spec = RealmSpec::render(&variables)?;
    let scopes = ServerScopes::of(&spec, variables.declared.server(&variables.server_url));
    // A user of the project's own when it declares some, else kcdev's test user.
    let user = match variables.declared.users.first() {
        Some(user) => (user.username.clone(), user.password.clone()),
        None => ("testuser".to_owned(), user_password),
    };
    let values = ConnectionValues {
        name: options.name,
        server_url: variables.resource_url(),
        issuer,
        scope: scopes.required.join(" "),
        user,
        home: etcetera::home_dir().map_err(crate::state::StateError::from)?,
        dirs: ConfigDirs::from_env(|name| std::env::var(name).ok()),
    };
    let mut config = match options.registration {
        Some(registration) => options.client.config(&values, registration)?,
        None => options.client.default_config(&values),
    };
    if let Some(scope) = options.scope
        && !config.choose_scope(scope)
    {
        return Err(OpsError::InvalidOption {
            flag: "--scope",
            value: scope.id().to_owned(),
            expected: "a scope this client has a file for (see the locations kcdev prints)",
        });
    }
    let written = match options.write {
        None => None,
        Some(path) => {
            let path = path.unwrap_or_else(|| config.locations[0].path.clone());
            let outcome = merge_entry(&path, config.format, &config.entry_path, config.entry())?;
            Some((path, outcome))
        }
    };
    Ok(ClientConfigReport {
        config,
        values,
        written,
    })
}
