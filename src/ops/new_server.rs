use std::path::PathBuf;

use serde::Serialize;

use super::OpsError;
use super::settings::InstanceContext;
use crate::realm::{RealmSpec, RealmVariables, check_http_url};
use crate::scaffold::{self, GeneratedProject, Language, ServerValues};

/// What `kcdev new server` was asked to do.
#[derive(Debug, Clone)]
pub struct NewServerOptions {
    /// Instance whose realm the server is wired to.
    pub context: InstanceContext,
    pub language: Language,
    /// Project (and package) name.
    pub name: String,
    /// Target directory (default: the name).
    pub dir: Option<PathBuf>,
    /// Write into a non-empty directory.
    pub force: bool,
    /// Realm URL, instead of the instance's.
    pub realm_url: Option<String>,
    /// Server base URL, instead of the instance's.
    pub server_url: Option<String>,
}

/// Where the values came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValuesSource {
    /// The instance's state (what `up` provisioned).
    Instance,
    /// kcdev's defaults (no instance has been brought up).
    Defaults,
}

/// What `kcdev new server` wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewServerReport {
    /// The project.
    pub project: GeneratedProject,
    pub language: Language,
    /// Package name.
    pub name: String,
    /// Realm URL it trusts.
    pub realm_url: String,
    /// Its base URL.
    pub server_url: String,
    /// Its resource URL (the token audience).
    pub resource_url: String,
    /// The scope it requires.
    pub scope: String,
    /// Where the values came from (flags override either).
    pub source: ValuesSource,
}

/// Writes a new MCP server project wired to the instance's realm.
pub fn new_server(options: NewServerOptions) -> Result<NewServerReport, OpsError> {
    let endpoints = options.context.endpoints()?;
    let source = if endpoints.from_instance {
        ValuesSource::Instance
    } else {
        ValuesSource::Defaults
    };
    let (mut realm_url, mut server_url) = (endpoints.issuer, endpoints.server_url);
    if let Some(flag) = options.realm_url {
        realm_url = flag.trim_end_matches('/').to_owned();
        // It is written into the project's source: a URL, and nothing that could break out of it.
        check_http_url("realm URL", &realm_url)?;
    }
    if let Some(flag) = options.server_url {
        server_url = flag.trim_end_matches('/').to_owned();
    }
    // The scope comes from the realm spec, the one place that names it.
    let variables = RealmVariables {
        server_url: server_url.clone(),
        ..RealmVariables::default()
    };
    let spec = RealmSpec::render(&variables)?;
    let values = ServerValues {
        name: options.name.clone(),
        realm_url: realm_url.clone(),
        server_url: server_url.clone(),
        scope: spec.mcp_scope.clone(),
    };
    let project = scaffold::generate_server(&scaffold::NewServerOptions {
        language: options.language,
        dir: options.dir.unwrap_or_else(|| PathBuf::from(&options.name)),
        values,
        force: options.force,
    })?;
    Ok(NewServerReport {
        project,
        language: options.language,
        name: options.name,
        resource_url: variables.resource_url(),
        realm_url,
        server_url,
        scope: spec.mcp_scope,
        source,
    })
}
