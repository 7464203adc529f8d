use std::path::PathBuf;

use serde::Serialize;

use super::OpsError;
use super::env::ServerInRealm;
use super::settings::InstanceContext;
use crate::realm::check_http_url;
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
    /// Scopes every request needs.
    pub required_scopes: Vec<String>,
    /// Scopes its tools may ask for (step-up).
    pub optional_scopes: Vec<String>,
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
    // The scopes come from the realm `up` would apply now: the project file's declarations for
    // this server, else kcdev's own.
    let state = options.context.load_state()?;
    let realm = ServerInRealm::of(&options.context, state.as_ref(), &server_url)?;
    let values = ServerValues {
        name: options.name.clone(),
        realm_url: realm_url.clone(),
        server_url: server_url.clone(),
        admin_scope: realm.step_up_scope,
        required_scopes: realm.scopes.required.clone(),
        optional_scopes: realm.scopes.optional.clone(),
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
        resource_url: realm.resource_url,
        realm_url,
        server_url,
        required_scopes: realm.scopes.required,
        optional_scopes: realm.scopes.optional,
        source,
    })
}
