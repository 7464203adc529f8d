mod resolve;

pub use resolve::{EnvironmentSettings, SettingOrigins, SettingSource};
use serde::Serialize;

use super::OpsError;
use crate::clients::Client;
use crate::defaults;
use crate::docker::{ContainerStatus, DockerError, Engine, probe_ready};
use crate::instance::Instance;
use crate::keycloak::{AdminLogin, AdminSession, RealmUrls};
use crate::project::ProjectFile;
use crate::realm::{
    CimdOptions, CimdSpec, RealmSpec, RealmVariables, RegisteredClientScopes, field,
};
use crate::state::{
    ContainerSettings, InstanceState, KeycloakSettings, RealmSettings, StateError, StateStore,
};
use crate::trust::{Trust, TrustError};

/// Keycloak's experimental RFC 8707 feature (`up --resource-indicators`).
pub const RESOURCE_INDICATORS_FEATURE: &str = "resource-indicators";

/// A host port as asked for: a given one, or any free one (chosen once, then kept in the state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRequest {
    Fixed(u16),
    Auto,
}

/// Where an operation acts: which instance, which engine, which state directory.
#[derive(Debug, Clone)]
pub struct InstanceContext {
    /// The instance.
    pub instance: Instance,
    /// The engine address (`DOCKER_HOST`), if set.
    pub docker_host: Option<String>,
    /// Where state files live.
    pub state: StateStore,
    /// The admin login for a Keycloak kcdev does not run, from the environment
    /// (`KCDEV_ADMIN_USERNAME`/`_PASSWORD` or `KCDEV_ADMIN_CLIENT_ID`/`_SECRET`).
    pub server_admin: Option<AdminLogin>,
    /// The project file (`kcdev.toml`) found or named, read and checked.
    pub project: Option<ProjectFile>,
    pub environment: EnvironmentSettings,
}

impl InstanceContext {
    /// Connects to the engine.
    pub async fn engine(&self) -> Result<Engine, DockerError> {
        Engine::connect(self.docker_host.as_deref()).await
    }

    /// The instance's state, if `up` ever ran.
    pub fn load_state(&self) -> Result<Option<InstanceState>, StateError> {
        self.state.load(&self.instance)
    }

    /// The state of an instance whose Keycloak is running and ready; an error naming what is
    /// missing otherwise.
    pub async fn require_up(&self) -> Result<InstanceState, OpsError> {
        let not_running = || OpsError::NotRunning {
            instance: self.instance.to_string(),
        };
        let state = self.load_state()?.ok_or_else(not_running)?;
        let Some(settings) = state.keycloak.container() else {
            // A server kcdev does not run: the next call to it says whether it answers.
            return Ok(state);
        };
        let engine = self.engine().await?;
        let container = engine
            .find_container(&self.instance)
            .await?
            .ok_or_else(not_running)?;
        let ready = container.status == ContainerStatus::Running
            && probe_ready(&reqwest::Client::new(), settings.management_port)
                .await
                .is_ok();
        if ready { Ok(state) } else { Err(not_running()) }
    }

    /// An Admin API session on the instance's Keycloak: as the bootstrap admin kcdev created in
    /// its container, or with the login the environment gives for a server it was pointed at.
    pub async fn admin_session(
        &self,
        settings: &ResolvedSettings,
    ) -> Result<AdminSession, OpsError> {
        let login = match &settings.keycloak {
            KeycloakSettings::Container { admin, .. } => AdminLogin::User {
                username: admin.username.clone(),
                password: admin.password.clone(),
            },
            KeycloakSettings::Server { server } => {
                self.server_admin
                    .clone()
                    .ok_or_else(|| OpsError::NoAdminLogin {
                        url: server.url.clone(),
                    })?
            }
        };
        let http = settings.trust()?.client_builder();
        Ok(AdminSession::connect(&settings.admin_url(), &login, http).await?)
    }
}

/// What the instance's realm and server are reached at: what `up` chose, or kcdev's defaults
/// when the instance was never brought up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The realm's issuer.
    pub issuer: String,
    /// The primary MCP server's base URL.
    pub server_url: String,
    /// Further servers' base URLs.
    pub additional_server_urls: Vec<String>,
    /// The test users' password.
    pub user_password: String,
    /// Whether these come from the instance (else from the defaults).
    pub from_instance: bool,
    /// The CA file that signed the Keycloak's certificate, beyond the system's (`--ca-cert`).
    pub ca_cert: Option<std::path::PathBuf>,
}

impl Endpoints {
    /// The base URL of the server `chosen` names (the primary one when `None`), which must be one
    /// of the instance's: tokens carry no other server's audience.
    pub fn server(&self, chosen: Option<&str>) -> Result<String, OpsError> {
        let Some(chosen) = chosen else {
            return Ok(self.server_url.clone());
        };
        let chosen = chosen.trim_end_matches('/');
        let known: Vec<String> = std::iter::once(&self.server_url)
            .chain(&self.additional_server_urls)
            .cloned()
            .collect();
        if known.iter().any(|url| url == chosen) {
            Ok(chosen.to_owned())
        } else {
            Err(OpsError::UnknownServer {
                server: chosen.to_owned(),
                known,
            })
        }
    }
}

impl InstanceContext {
    /// The instance's endpoints, or the defaults.
    pub fn endpoints(&self) -> Result<Endpoints, OpsError> {
        Ok(match self.load_state()? {
            Some(state) => Endpoints {
                issuer: ResolvedSettings::from_state(&state).realm_urls().issuer,
                ca_cert: match &state.keycloak {
                    KeycloakSettings::Server { server } => server.ca_cert.clone(),
                    KeycloakSettings::Container { .. } => None,
                },
                server_url: state.realm.server_url,
                additional_server_urls: state.realm.additional_server_urls,
                user_password: state.realm.user_password,
                from_instance: true,
            },
            None => Endpoints {
                issuer: format!(
                    "http://localhost:{}/realms/{}",
                    defaults::HTTP_PORT,
                    defaults::REALM
                ),
                server_url: defaults::SERVER_URL.to_owned(),
                additional_server_urls: vec![],
                user_password: defaults::USER_PASSWORD.to_owned(),
                from_instance: false,
                ca_cert: None,
            },
        })
    }
}

/// Keycloak and realm settings after flags, environment, project file, state and defaults have
/// been weighed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSettings {
    pub keycloak: KeycloakSettings,
    pub realm: RealmSettings,
    pub origins: SettingOrigins,
}

impl KeycloakSettings {
    /// The container's settings, when kcdev runs this Keycloak.
    pub fn container(&self) -> Option<&ContainerSettings> {
        match self {
            Self::Container { container, .. } => Some(container),
            Self::Server { .. } => None,
        }
    }
}

impl ResolvedSettings {
    /// The same settings as an instance's state holds them.
    pub fn from_state(state: &InstanceState) -> Self {
        Self {
            keycloak: state.keycloak.clone(),
            realm: state.realm.clone(),
            origins: state.origins.clone(),
        }
    }

    /// The container's settings, when kcdev runs this Keycloak.
    pub fn container(&self) -> Option<&ContainerSettings> {
        self.keycloak.container()
    }

    /// Keycloak's public base URL (issuers are built from it: for a container, the fixed
    /// hostname kcdev gives it).
    pub fn keycloak_url(&self) -> String {
        match &self.keycloak {
            KeycloakSettings::Container { container, .. } => {
                format!("http://localhost:{}", container.http_port)
            }
            KeycloakSettings::Server { server } => server.url.trim_end_matches('/').to_owned(),
        }
    }

    /// The base URL kcdev itself uses to reach Keycloak: loopback, where a container's port is
    /// published; a server's own URL.
    pub fn admin_url(&self) -> String {
        match &self.keycloak {
            KeycloakSettings::Container { container, .. } => {
                format!("http://127.0.0.1:{}", container.http_port)
            }
            KeycloakSettings::Server { server } => server.url.trim_end_matches('/').to_owned(),
        }
    }

    /// The certificate authorities calls to this Keycloak trust.
    pub fn trust(&self) -> Result<Trust, TrustError> {
        match &self.keycloak {
            KeycloakSettings::Container { .. } => Ok(Trust::system()),
            KeycloakSettings::Server { server } => Trust::from_option(server.ca_cert.as_deref()),
        }
    }

    /// The realm's URLs.
    pub fn realm_urls(&self) -> RealmUrls {
        RealmUrls::new(&self.keycloak_url(), &self.realm.name)
    }

    /// The experimental Keycloak features the realm's modes need, sorted.
    pub fn features(&self) -> Vec<String> {
        let mut features = Vec::new();
        if self.realm.cimd.is_some() {
            features.push(CimdOptions::FEATURE.to_owned());
        }
        if self.realm.resource_indicators {
            features.push(RESOURCE_INDICATORS_FEATURE.to_owned());
        }
        features.sort();
        features
    }

    /// The values for the realm spec's placeholders.
    pub fn realm_variables(&self) -> RealmVariables {
        RealmVariables {
            realm: self.realm.name.clone(),
            server_url: self.realm.server_url.trim_end_matches('/').to_owned(),
            user_password: self.realm.user_password.clone(),
            test_users: self.realm.test_users,
            anonymous_registration: self.realm.anonymous_registration,
            extra_trusted_hosts: self.realm.extra_trusted_hosts.clone(),
            cimd: self.realm.cimd.clone(),
            additional_server_urls: self.realm.additional_server_urls.clone(),
            declared: self.realm.declared.clone(),
            registered_client_scopes: self.realm.registered_client_scopes,
            events: self.realm.events,
        }
    }
}

/// How MCP clients get a client id from the realm, as `up` and `status` report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationPaths {
    /// The client ids the realm holds for MCP clients that accept one.
    pub pre_registered: Vec<String>,
    /// Anonymous dynamic client registration: how VS Code and Cursor get in. Always on in a
    /// container kcdev runs; on another server only with `up --anonymous-registration`.
    pub dynamic: bool,
    /// The domains Client ID Metadata Documents are accepted from; `None` when CIMD is off.
    pub cimd_domains: Option<Vec<String>>,
    /// Whether a dynamically registered client can later ask for the realm's optional scopes
    /// (step-up): kcdev's registration provider gives them.
    pub registered_clients_step_up: bool,
}

impl RegistrationPaths {
    pub fn of(spec: &RealmSpec) -> Self {
        let declared = |client_id: &str| {
            spec.clients
                .iter()
                .any(|client| field(client, "clientId") == client_id)
        };
        Self {
            pre_registered: Client::ALL
                .iter()
                .filter_map(|client| client.pre_registered())
                .map(|pre| pre.client_id)
                .filter(|client_id| declared(client_id))
                .map(str::to_owned)
                .collect(),
            dynamic: spec.anonymous_registration_policies.is_some(),
            cimd_domains: spec.cimd.as_ref().map(CimdSpec::client_id_domains),
            registered_clients_step_up: spec
                .anonymous_registration_policies
                .iter()
                .flatten()
                .any(|policy| policy.provider_id == RegisteredClientScopes::PROVIDER_ID),
        }
    }
}

/// A test user as the summary shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestUser {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Realm roles.
    pub roles: Vec<String>,
}

impl TestUser {
    /// The test users the spec defines.
    pub fn from_spec(spec: &RealmSpec) -> Vec<Self> {
        spec.users
            .iter()
            .map(|user| Self {
                username: user.username().to_owned(),
                password: user.password.clone(),
                roles: user.realm_roles.clone(),
            })
            .collect()
    }
}
