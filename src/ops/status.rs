use std::path::PathBuf;

use serde::Serialize;

use super::OpsError;
use super::settings::{InstanceContext, RegistrationPaths, ResolvedSettings};
use crate::docker::{ContainerStatus, ObservedContainer, format_bytes, probe_ready};
use crate::realm::{self, RealmSpec};

/// The container as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerReport {
    /// Name.
    pub name: String,
    /// Id.
    pub id: String,
    /// State.
    pub status: ContainerStatus,
    /// Docker health, if known.
    pub health: Option<String>,
    /// The image the user chose (an optimized boot runs one derived from it).
    pub image: String,
    /// `dev`, `built` or `seeded`: see `UpReport::boot`.
    pub boot: String,
    /// Keycloak version recorded at creation.
    pub keycloak_version: Option<String>,
    /// Published HTTP address.
    pub http: Option<String>,
    /// Published management address.
    pub management: Option<String>,
    /// Memory limit.
    pub memory: String,
    /// Data volume.
    pub volume: Option<String>,
}

impl From<&ObservedContainer> for ContainerReport {
    fn from(container: &ObservedContainer) -> Self {
        let address = |binding: &Option<(String, u16)>| {
            binding.as_ref().map(|(ip, port)| format!("{ip}:{port}"))
        };
        Self {
            name: container.name.clone(),
            id: container.id.clone(),
            status: container.status,
            health: container.health.clone(),
            image: container.base_image.clone(),
            boot: container.boot.clone(),
            keycloak_version: container.keycloak_version.clone(),
            http: address(&container.http_binding),
            management: address(&container.management_binding),
            memory: format_bytes(container.memory_bytes),
            volume: container.data_volume.clone(),
        }
    }
}

/// The realm as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealmStatus {
    /// Realm name.
    pub name: String,
    /// Issuer.
    pub issuer: String,
    /// Whether the realm exists.
    pub exists: bool,
    /// Objects that differ from the spec (what the next `up` would change).
    pub drift: Vec<String>,
}

/// What `kcdev status` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// Instance name.
    pub instance: String,
    /// Docker engine address; `None` for a server kcdev does not run.
    pub engine: Option<String>,
    /// Whether kcdev runs this Keycloak (in a container) or was pointed at it.
    pub managed: bool,
    /// The container, if it exists.
    pub container: Option<ContainerReport>,
    /// Whether Keycloak answers ready on its management port.
    pub ready: bool,
    /// Keycloak's base URL, if `up` ever ran.
    pub keycloak_url: Option<String>,
    /// The realm, if Keycloak is ready and kcdev knows its admin password.
    pub realm: Option<RealmStatus>,
    /// How MCP clients get a client id, if `up` ever ran.
    pub registration: Option<RegistrationPaths>,
    /// The state file, if it exists.
    pub state_file: Option<PathBuf>,
    /// The project file this directory uses, if any.
    pub project_file: Option<PathBuf>,
    /// Where each setting of the last `up` came from.
    pub settings: super::SettingOrigins,
}

impl StatusReport {
    /// Up means: ready, and for a container kcdev runs, running.
    pub fn is_up(&self) -> bool {
        self.ready
            && (!self.managed
                || self
                    .container
                    .as_ref()
                    .is_some_and(|c| c.status == ContainerStatus::Running))
    }
}

/// Reads the instance's container, readiness and realm, changing nothing.
pub async fn status(context: &InstanceContext) -> Result<StatusReport, OpsError> {
    let state = context.load_state()?;
    let settings = state.as_ref().map(ResolvedSettings::from_state);
    let server = settings
        .as_ref()
        .filter(|settings| settings.container().is_none());
    let mut session = None;
    let (engine, container, ready) = match server {
        // What the server says: it is ready when its admin API lets kcdev in.
        Some(settings) => {
            session = context.admin_session(settings).await.ok();
            (None, None, session.is_some())
        }
        None => {
            let engine = context.engine().await?;
            let container = engine.find_container(&context.instance).await?;
            let running = container
                .as_ref()
                .is_some_and(|c| c.status == ContainerStatus::Running);
            let management_port = container
                .as_ref()
                .and_then(|c| c.management_binding.as_ref())
                .map(|(_, port)| *port);
            let ready = match management_port {
                Some(port) if running => probe_ready(&reqwest::Client::new(), port).await.is_ok(),
                _ => false,
            };
            (Some(engine.endpoint().to_owned()), container, ready)
        }
    };
    let managed = server.is_none();
    let spec = settings
        .as_ref()
        .map(|settings| RealmSpec::render(&settings.realm_variables()))
        .transpose()?;
    let realm = match (&settings, &state, &spec) {
        (Some(settings), Some(state), Some(spec)) if ready => {
            let session = match session {
                Some(session) => session,
                None => context.admin_session(settings).await?,
            };
            let plan = realm::drift(&session, spec, &state.password_marks).await?;
            Some(RealmStatus {
                name: settings.realm.name.clone(),
                issuer: settings.realm_urls().issuer,
                exists: plan.is_some(),
                drift: plan
                    .map(|plan| plan.changes.into_iter().map(|c| c.object).collect())
                    .unwrap_or_default(),
            })
        }
        _ => None,
    };
    Ok(StatusReport {
        instance: context.instance.to_string(),
        engine,
        managed,
        container: container.as_ref().map(ContainerReport::from),
        ready,
        keycloak_url: settings.map(|s| s.keycloak_url()),
        realm,
        registration: spec.as_ref().map(RegistrationPaths::of),
        settings: state
            .as_ref()
            .map(|state| state.origins.clone())
            .unwrap_or_default(),
        state_file: state.map(|_| context.state.path(&context.instance)),
        project_file: context.project.as_ref().map(|project| project.path.clone()),
    })
}
