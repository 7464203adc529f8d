use std::path::PathBuf;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;

use super::OpsError;
use super::settings::{
    InstanceContext, PortRequest, RegistrationPaths, ResolvedSettings, TestUser,
};
use crate::defaults;
use crate::docker::{
    BUILT_LABEL, Boot, BootMode, BuildOptions, ContainerStatus, DerivedNames, Engine, ImageRef,
    ImageSummary, KeycloakContainer, ObservedContainer, PullPolicy, SEEDED_LABEL, SeedRealm,
    ensure_ports_free, parse_keycloak_version, probe_ready,
};
use crate::keycloak::{AdminLogin, AdminSession, KeycloakApiError, PreparedKeys, RealmUrls};
use crate::lock::InstanceLock;
use crate::progress::Reporter;
use crate::realm::{self, RealmSpec, ReconcileReport, RegisteredClientScopes, resource_url_of};
use crate::state::{
    AdminCredentials, ContainerSettings, InstanceState, KeycloakSettings, ServerSettings,
};

/// Seconds Keycloak gets to stop cleanly when a container is replaced.
const STOP_GRACE_SECONDS: i32 = 10;

/// How much longer than its own readiness timeout an `up` waits for another kcdev working on the
/// same instance: that one may be waiting out the same timeout, then provisioning.
const LOCK_WAIT_MARGIN: Duration = Duration::from_secs(120);

/// What `kcdev up` was asked to do. `None` means: what the last `up` used, else the default.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Instance, engine and state directory.
    pub context: InstanceContext,
    /// Image reference.
    pub image: Option<String>,
    /// When to pull.
    pub pull: PullPolicy,
    pub http_port: Option<PortRequest>,
    pub management_port: Option<PortRequest>,
    /// Memory limit in bytes.
    pub memory_bytes: Option<u64>,
    pub boot: Option<BootMode>,
    /// How long to wait for readiness.
    pub timeout: Duration,
    /// Replace a container whose settings differ.
    pub recreate: bool,
    /// Realm name.
    pub realm: Option<String>,
    /// MCP server base URLs, the primary first (replacing the last `up`'s when given).
    pub server_urls: Option<Vec<String>>,
    /// RFC 8707 resource indicators (`Some(false)`: turn them off).
    pub resource_indicators: Option<bool>,
    /// Extra trusted hosts (replacing the last `up`'s when given).
    pub trusted_hosts: Option<Vec<String>>,
    /// Test users' password.
    pub user_password: Option<String>,
    /// Offer Client ID Metadata Documents (`Some(false)`: stop offering them).
    pub cimd: Option<bool>,
    /// Domains beyond the built-in ones for CIMD documents (with `cimd: Some(true)`).
    pub cimd_domains: Option<Vec<String>>,
    /// Delete and recreate the realm.
    pub reset_realm: bool,
    /// The realm's name, spelled out: what deleting a realm on a server kcdev does not run needs.
    pub reset_confirmation: Option<String>,
    /// Provision a Keycloak at this base URL instead of running a container.
    pub keycloak_url: Option<String>,
    /// Certificate authorities (PEM) to trust for that Keycloak, beyond the system's.
    pub ca_cert: Option<PathBuf>,
    /// Test users on a server kcdev does not run (always on in a container).
    pub test_users: Option<bool>,
    /// kcdev's anonymous registration policies on a server kcdev does not run (always on in a
    /// container).
    pub anonymous_registration: Option<bool>,
    /// Event recording (`kcdev events`) on a server kcdev does not run (always on in a
    /// container).
    pub events: Option<bool>,
}

impl UpOptions {
    /// An `up` given no flags: every setting from the layers below them.
    pub fn without_flags(context: InstanceContext) -> Self {
        Self {
            context,
            image: None,
            pull: PullPolicy::Missing,
            http_port: None,
            management_port: None,
            memory_bytes: None,
            boot: None,
            // Resolution never waits; a readiness timeout has no meaning here.
            timeout: Duration::ZERO,
            recreate: false,
            realm: None,
            server_urls: None,
            resource_indicators: None,
            trusted_hosts: None,
            user_password: None,
            cimd: None,
            cimd_domains: None,
            reset_realm: false,
            reset_confirmation: None,
            keycloak_url: None,
            ca_cert: None,
            test_users: None,
            anonymous_registration: None,
            events: None,
        }
    }
}

/// What happened to the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContainerAction {
    /// Created and started.
    Created,
    /// Removed and created again with new settings (data kept).
    Recreated,
    /// Existed, was stopped, and was started.
    Started,
    /// Was already running; no container work done.
    AlreadyRunning,
}

/// The MCP side of the setup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct McpSettings {
    /// Server base URL.
    pub server_url: String,
    /// Resource URL (what tokens' `aud` carries and clients connect to).
    pub resource_url: String,
    /// Scope the server requires.
    pub scope: String,
    /// The resource URLs of further servers on the same realm.
    pub additional_resource_urls: Vec<String>,
    /// Whether a token asked for with `resource` carries that resource alone as `aud`.
    pub resource_indicators: bool,
}

/// How long the parts of `up` took.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpTimings {
    /// Whole operation, seconds.
    pub total_seconds: f64,
    /// Waiting for Keycloak to report ready, seconds.
    pub ready_wait_seconds: f64,
    /// Logging in as admin, seconds; on a new instance from a seeded image this includes creating
    /// the admin and replacing the master realm's keys.
    pub admin_seconds: f64,
    /// Reconciling the realm, seconds.
    pub provisioning_seconds: f64,
}

/// The container `up` brought up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerUp {
    /// Container name.
    pub container: String,
    pub container_action: ContainerAction,
    /// The image asked for (`--image`, or the pinned default).
    pub image: String,
    /// The image the container runs: `image` itself for a dev boot, else the one kcdev derived.
    pub run_image: String,
    /// How it boots: `dev` (start-dev on the image), `built` (start --optimized on the derived
    /// image) or `seeded` (the same with a pre-initialized database).
    pub boot: String,
    /// The master realm's bootstrap admin.
    pub admin: AdminCredentials,
}

/// The server `up` provisioned without running it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerUp {
    pub url: String,
    pub ca_cert: Option<PathBuf>,
    /// Who kcdev logged in as (`user "ci-admin"`, `client "kcdev-ci"`); never the secret.
    pub admin: String,
}

/// Where the Keycloak `up` provisioned lives. In JSON, the container's fields sit at the top
/// level, as they did before servers kcdev does not run; a server's sit under `server`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UpKeycloak {
    Container(ContainerUp),
    Server { server: ServerUp },
}

/// Everything a user (or a script) needs after `up`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpReport {
    /// Instance name.
    pub instance: String,
    #[serde(flatten)]
    pub keycloak: UpKeycloak,
    /// Keycloak version (declared by the image, else reported by the server).
    pub keycloak_version: String,
    /// Keycloak's base URL.
    pub keycloak_url: String,
    /// Admin console URL.
    pub admin_console_url: String,
    /// The realm's URLs (issuer, JWKS, ...).
    pub realm: RealmUrls,
    /// The MCP server the realm is for.
    pub mcp: McpSettings,
    /// Test users.
    pub users: Vec<TestUser>,
    /// Hosts trusted for anonymous client registration (none when kcdev left the server's
    /// registration policies alone).
    pub trusted_hosts: Vec<String>,
    /// How MCP clients get a client id from the realm.
    pub registration: RegistrationPaths,
    /// What provisioning changed.
    pub provisioning: ReconcileReport,
    /// Timings.
    pub timings: UpTimings,
    /// The state file.
    pub state_file: PathBuf,
    /// The project file `up` read, if any.
    pub project_file: Option<PathBuf>,
    /// Where each setting came from: flag, environment, kcdev.toml, the last `up`, default.
    pub settings: super::SettingOrigins,
}

fn generate_password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect()
}

/// Brings the instance's Keycloak up and its realm in line with the spec.
pub async fn up(options: UpOptions, reporter: &dyn Reporter) -> Result<UpReport, OpsError> {
    let started = Instant::now();
    let context = &options.context;
    // Bad flags are reported before anything is touched, the lock file included.
    options.validate(context.load_state()?.as_ref())?;
    let _lock = InstanceLock::acquire(
        &context.state,
        &context.instance,
        "up",
        options.timeout + LOCK_WAIT_MARGIN,
        reporter,
    )
    .await?;
    // Read again under the lock: a concurrent `up` may have just written it.
    let previous = context.load_state()?;
    let (settings, spec) = options.validate(previous.as_ref())?;
    let provisioned = match settings.keycloak.clone() {
        KeycloakSettings::Container { container, .. } => {
            up_container(&options, settings, container, spec, previous, reporter).await?
        }
        KeycloakSettings::Server { server } => {
            up_server(&options, settings, server, spec, previous, reporter).await?
        }
    };
    let Provisioned {
        settings,
        spec,
        keycloak,
        keycloak_version,
        provisioning,
        ready_wait,
        admin_time,
        provisioning_time,
    } = provisioned;
    let state_file = context.state.path(&context.instance);
    let realm_urls = settings.realm_urls();
    Ok(UpReport {
        instance: context.instance.to_string(),
        keycloak,
        keycloak_version,
        keycloak_url: settings.keycloak_url(),
        admin_console_url: realm_urls.admin_console.clone(),
        mcp: McpSettings {
            server_url: settings.realm.server_url.clone(),
            resource_url: settings.realm_variables().resource_url(),
            scope: spec.mcp_scope.clone(),
            additional_resource_urls: settings
                .realm
                .additional_server_urls
                .iter()
                .map(|url| resource_url_of(url))
                .collect(),
            resource_indicators: settings.realm.resource_indicators,
        },
        users: TestUser::from_spec(&spec),
        trusted_hosts: spec.trusted_hosts().to_vec(),
        registration: RegistrationPaths::of(&spec),
        realm: realm_urls,
        provisioning,
        timings: UpTimings {
            total_seconds: started.elapsed().as_secs_f64(),
            ready_wait_seconds: ready_wait.as_secs_f64(),
            admin_seconds: admin_time.as_secs_f64(),
            provisioning_seconds: provisioning_time.as_secs_f64(),
        },
        state_file,
        project_file: context.project.as_ref().map(|project| project.path.clone()),
        settings: settings.origins.clone(),
    })
}

/// What `up` did, whichever the Keycloak: for the report.
struct Provisioned {
    settings: ResolvedSettings,
    /// The spec applied (without kcdev's registration policy where the server lacks it).
    spec: RealmSpec,
    keycloak: UpKeycloak,
    keycloak_version: String,
    provisioning: ReconcileReport,
    ready_wait: Duration,
    admin_time: Duration,
    provisioning_time: Duration,
}

/// Brings the instance's container up (deriving, creating, starting or leaving it as it is), then
/// provisions the realm in it.
async fn up_container(
    options: &UpOptions,
    mut settings: ResolvedSettings,
    container_settings: ContainerSettings,
    mut spec: RealmSpec,
    previous: Option<InstanceState>,
    reporter: &dyn Reporter,
) -> Result<Provisioned, OpsError> {
    let context = &options.context;
    let image: ImageRef = container_settings.image.parse()?;

    reporter.step("Connecting to the Docker engine");
    let engine = context.engine().await?;
    let existing = engine.find_container(&context.instance).await?;
    let admin = admin_credentials(context, &engine, previous.as_ref(), existing.as_ref()).await?;
    settings.keycloak = KeycloakSettings::Container {
        admin: admin.clone(),
        container: container_settings.clone(),
    };
    let mut state = next_state(context, &settings, previous.as_ref());
    let mut wanted = KeycloakContainer {
        instance: context.instance.clone(),
        base_image: container_settings.image.clone(),
        boot: container_settings.boot,
        keycloak_version: existing.as_ref().and_then(|c| c.keycloak_version.clone()),
        http_port: container_settings.http_port,
        management_port: container_settings.management_port,
        memory_bytes: container_settings.memory_bytes,
        features: settings.features(),
        admin_username: admin.username.clone(),
        admin_password: admin.password.clone(),
    };

    let default_realm = realm::default_realm()?;
    let seed = SeedRealm::new(default_realm.name, default_realm.document);
    let mut derived = None;
    let mut new_volume = false;
    let (action, container_id, boot, run_image) = match existing {
        Some(container) if wanted.differences(&container).is_empty() => {
            let action = start_existing(&engine, &container, &wanted, reporter).await?;
            (action, container.id, container.boot, container.image)
        }
        Some(container)
            if !options.recreate
                && wanted
                    .differences(&container)
                    .iter()
                    .any(|difference| !difference.follows_realm_modes()) =>
        {
            return Err(OpsError::SettingsChanged {
                differences: wanted.differences(&container),
                container: container.name,
            });
        }
        replaced => {
            // Derive (the slow part) before the old container goes.
            let prepared =
                prepare_boot(&engine, &mut wanted, &image, &seed, options, reporter).await?;
            let action = match replaced {
                Some(old) => {
                    reporter.step("Replacing the container (the data volume stays)");
                    engine.stop(&old.id, STOP_GRACE_SECONDS).await?;
                    engine.remove_container(&old.id).await?;
                    ContainerAction::Recreated
                }
                None => ContainerAction::Created,
            };
            let (id, new) = create_and_start(
                context,
                &engine,
                &wanted,
                &prepared.boot,
                &state,
                previous.as_ref(),
                reporter,
            )
            .await?;
            new_volume = new;
            let run_image = prepared.boot.image(&wanted.base_image).to_owned();
            let label = prepared.boot.label().to_owned();
            derived = prepared.names;
            (action, id, label, run_image)
        }
    };
    // New containers had the state saved before they were created; for the others, keep what
    // changed (realm options, a password recovered from the container).
    let created = matches!(
        action,
        ContainerAction::Created | ContainerAction::Recreated
    );
    if !created && previous.as_ref() != Some(&state) {
        context.state.save(&state)?;
    }
    // A new container most likely means a new realm: its RSA keys are made while Keycloak boots.
    // Failing that, Keycloak makes its own. A new volume from the seeded image has the realm,
    // and needs only the signing key (see `realm::reconcile_seeded`).
    let seeded = boot == SEEDED_LABEL;
    let seeded_realm = seeded && new_volume && !options.reset_realm;
    let key_job = (created || options.reset_realm).then(|| {
        tokio::task::spawn_blocking(move || {
            if seeded_realm {
                PreparedKeys::signing_only().ok()
            } else {
                PreparedKeys::generate().ok()
            }
        })
    });

    let wait_started = Instant::now();
    if action == ContainerAction::AlreadyRunning
        && probe_ready(&reqwest::Client::new(), wanted.management_port)
            .await
            .is_ok()
    {
        // Healthy already: nothing to wait for.
    } else {
        reporter.step("Waiting for Keycloak to be ready");
        engine
            .wait_ready(
                &container_id,
                wanted.management_port,
                options.timeout,
                reporter,
            )
            .await?;
    }
    let ready_wait = wait_started.elapsed();

    let admin_started = Instant::now();
    let session = admin_session(
        &engine,
        &container_id,
        &settings,
        &admin,
        seeded,
        new_volume,
    )
    .await?;
    let keycloak_version = match &wanted.keycloak_version {
        Some(version) => version.clone(),
        None => verify_running_version(&engine, &session, &container_id, &image).await?,
    };
    let admin_time = admin_started.elapsed();
    // A container an older kcdev made runs without kcdev's provider until it is recreated; one
    // this up created has it (built into a derived image, copied in for `start-dev`).
    let provider = if created {
        RegisteredClientScopes::RealmOptional
    } else {
        registered_client_scopes(&session, &settings.realm.name).await?
    };
    follow_registration_provider(context, provider, &mut settings, &mut spec, &mut state)?;

    let realm_keys = match key_job {
        Some(job) => job.await.ok().flatten(),
        None => None,
    };
    let realm_keys = realm_keys.as_ref();

    reporter.step("Provisioning the realm");
    let provisioning_started = Instant::now();
    // kcdev's seeding leaves the master realm without keys (Keycloak made this instance's own at
    // the admin login); keys a database was seeded with would be every instance's, and are
    // replaced while the realm is provisioned, the seeded ones last.
    let (replaced, provisioning) = tokio::join!(
        async {
            // Only a new volume holds the seeded database; an existing one has keys of its own.
            if seeded && new_volume {
                session.replace_seeded_master_keys().await
            } else {
                Ok(None)
            }
        },
        async {
            // A new volume from a seeded image holds kcdev's default realm already.
            if seeded_realm {
                realm::reconcile_seeded(&session, &spec, realm_keys, &state.password_marks).await
            } else {
                realm::reconcile(
                    &session,
                    &spec,
                    options.reset_realm,
                    realm_keys,
                    &state.password_marks,
                )
                .await
            }
        }
    );
    let provisioning = provisioning?;
    if provisioning.password_marks != state.password_marks {
        state.password_marks = provisioning.password_marks.clone();
        context.state.save(&state)?;
    }
    if let Some(seeded_keys) = replaced? {
        session.retire_seeded_keys(seeded_keys).await?;
        reporter.step("Gave the master realm keys of its own");
    }
    let provisioning_time = provisioning_started.elapsed();
    if let Some(names) = derived.filter(|_| boot == BUILT_LABEL) {
        // This up ran on the built image; the next new instance starts faster from one with
        // its database initialized, prepared now while the user gets going.
        if engine
            .start_seeding(&names, &seed, &wanted.base_image, &wanted.heap_options())
            .await?
        {
            reporter
                .step("Initializing a database image in the background, for faster new instances");
        }
    }

    Ok(Provisioned {
        spec,
        keycloak: UpKeycloak::Container(ContainerUp {
            container: context.instance.container_name(),
            container_action: action,
            image: container_settings.image.clone(),
            run_image,
            boot,
            admin,
        }),
        settings,
        keycloak_version,
        provisioning,
        ready_wait,
        admin_time,
        provisioning_time,
    })
}

/// Provisions the realm on a Keycloak kcdev does not run: no container step, the admin login
/// from the environment, the version checked before anything is written.
async fn up_server(
    options: &UpOptions,
    mut settings: ResolvedSettings,
    server: ServerSettings,
    mut spec: RealmSpec,
    previous: Option<InstanceState>,
    reporter: &dyn Reporter,
) -> Result<Provisioned, OpsError> {
    let context = &options.context;
    let url = settings.keycloak_url();
    reporter.step(&format!("Connecting to Keycloak at {url}"));
    let admin_started = Instant::now();
    let session = context.admin_session(&settings).await?;
    let keycloak_version = session.server_version().await?;
    if too_old(&keycloak_version) {
        return Err(OpsError::ServerTooOld {
            url,
            found: keycloak_version,
            minimum: defaults::MIN_KEYCLOAK_VERSION.to_string(),
        });
    }
    let admin_time = admin_started.elapsed();
    let mut state = next_state(context, &settings, previous.as_ref());
    let provider = registered_client_scopes(&session, &settings.realm.name).await?;
    follow_registration_provider(context, provider, &mut settings, &mut spec, &mut state)?;
    if previous.as_ref() != Some(&state) {
        context.state.save(&state)?;
    }
    reporter.step("Provisioning the realm");
    let provisioning_started = Instant::now();
    let provisioning = realm::reconcile(
        &session,
        &spec,
        options.reset_realm,
        None,
        &state.password_marks,
    )
    .await?;
    if provisioning.password_marks != state.password_marks {
        state.password_marks = provisioning.password_marks.clone();
        context.state.save(&state)?;
    }
    let principal = context
        .server_admin
        .as_ref()
        .map(|login| login.principal())
        .unwrap_or_default();
    let keycloak = UpKeycloak::Server {
        server: ServerUp {
            url: server.url,
            ca_cert: server.ca_cert,
            admin: principal,
        },
    };
    Ok(Provisioned {
        settings,
        spec,
        keycloak,
        keycloak_version,
        provisioning,
        ready_wait: Duration::ZERO,
        admin_time,
        provisioning_time: provisioning_started.elapsed(),
    })
}

/// Drops kcdev's registration policy from the spec (and says so in the state) when the Keycloak
/// lacks kcdev's provider: a server whose admins have not installed the jar `kcdev export
/// --provider-jar` writes, or a container an older kcdev made. Keycloak refuses a policy whose
/// provider it does not have.
fn follow_registration_provider(
    context: &InstanceContext,
    found: RegisteredClientScopes,
    settings: &mut ResolvedSettings,
    spec: &mut RealmSpec,
    state: &mut InstanceState,
) -> Result<(), OpsError> {
    if found == settings.realm.registered_client_scopes {
        return Ok(());
    }
    settings.realm.registered_client_scopes = found;
    state.realm.registered_client_scopes = found;
    context.state.save(state)?;
    *spec = RealmSpec::render(&settings.realm_variables())?;
    Ok(())
}

/// Whether the Keycloak has kcdev's registration provider: only then can registered clients
/// step up. The provider list is the same in every realm; the master realm answers before the
/// realm exists.
async fn registered_client_scopes(
    session: &AdminSession,
    realm: &str,
) -> Result<RegisteredClientScopes, OpsError> {
    let api = session.api();
    let providers = match api
        .realm_client_registration_policy_providers_get(realm)
        .await
    {
        Err(keycloak::KeycloakError::HttpFailure { status: 404, .. }) => {
            api.realm_client_registration_policy_providers_get("master")
                .await
        }
        other => other,
    }
    .map_err(|err| {
        KeycloakApiError::from_crate("list the client-registration policy providers", err)
    })?;
    let installed = providers
        .iter()
        .any(|provider| provider.id.as_deref() == Some(RegisteredClientScopes::PROVIDER_ID));
    Ok(if installed {
        RegisteredClientScopes::RealmOptional
    } else {
        RegisteredClientScopes::AsRegistered
    })
}

/// The state this `up` writes: its settings, and the password marks the last one left (marks
/// name credentials: on a new database they match nothing, and logins decide).
fn next_state(
    context: &InstanceContext,
    settings: &ResolvedSettings,
    previous: Option<&InstanceState>,
) -> InstanceState {
    let mut state = InstanceState::new(
        &context.instance,
        settings.keycloak.clone(),
        settings.realm.clone(),
    );
    state.password_marks = previous
        .map(|previous| previous.password_marks.clone())
        .unwrap_or_default();
    state.origins = settings.origins.clone();
    state
}

/// The admin credentials: from the state file; else from the container's environment; else new,
/// unless a data volume already holds a master realm whose password kcdev no longer knows.
async fn admin_credentials(
    context: &InstanceContext,
    engine: &Engine,
    previous: Option<&InstanceState>,
    existing: Option<&ObservedContainer>,
) -> Result<AdminCredentials, OpsError> {
    if let Some(KeycloakSettings::Container { admin, .. }) = previous.map(|state| &state.keycloak) {
        return Ok(admin.clone());
    }
    if let Some(password) = existing.and_then(|c| c.admin_password.clone()) {
        return Ok(AdminCredentials {
            username: defaults::ADMIN_USERNAME.to_owned(),
            password,
        });
    }
    if engine.volume_exists(&context.instance).await? {
        return Err(OpsError::AdminPasswordUnknown {
            volume: context.instance.volume_name(),
            state_path: context.state.path(&context.instance),
        });
    }
    Ok(AdminCredentials {
        username: defaults::ADMIN_USERNAME.to_owned(),
        password: generate_password(),
    })
}

/// Makes sure the image is there and refuses Keycloak older than the minimum. Returns the
/// version the image declares, if it declares one.
async fn check_image(
    engine: &Engine,
    image: &ImageRef,
    pull: PullPolicy,
    reporter: &dyn Reporter,
) -> Result<ImageSummary, OpsError> {
    reporter.step("Checking the Keycloak image");
    let summary = engine.ensure_image(image, pull, reporter).await?;
    match &summary.keycloak_version {
        Some(version) if *version < defaults::MIN_KEYCLOAK_VERSION => {
            Err(OpsError::KeycloakTooOld {
                image: image.to_string(),
                found: version.to_string(),
                minimum: defaults::MIN_KEYCLOAK_VERSION.to_string(),
            })
        }
        _ => Ok(summary),
    }
}

/// How a new container will boot, with what `up` needs to know about the images involved.
struct PreparedBoot {
    boot: Boot,
    /// The derived images' names, for an optimized boot.
    names: Option<DerivedNames>,
}

/// Makes sure the image is there and new enough, and, for an optimized boot, that its derived
/// image is (deriving it the first time).
async fn prepare_boot(
    engine: &Engine,
    wanted: &mut KeycloakContainer,
    image: &ImageRef,
    seed: &SeedRealm,
    options: &UpOptions,
    reporter: &dyn Reporter,
) -> Result<PreparedBoot, OpsError> {
    let summary = check_image(engine, image, options.pull, reporter).await?;
    wanted.keycloak_version = summary.keycloak_version.as_ref().map(ToString::to_string);
    match wanted.boot {
        BootMode::Dev => Ok(PreparedBoot {
            boot: Boot::Dev,
            names: None,
        }),
        BootMode::Optimized => {
            let images = engine
                .optimized_images(
                    &summary,
                    &BuildOptions {
                        features: wanted.features.clone(),
                    },
                    seed,
                    options.timeout,
                    reporter,
                )
                .await?;
            Ok(PreparedBoot {
                boot: images.boot,
                names: Some(images.names),
            })
        }
    }
}

/// An admin session. A container booted from a seeded image has a master realm, so Keycloak did
/// not create the bootstrap admin: kcdev creates it once, the first time its login fails.
async fn admin_session(
    engine: &Engine,
    container_id: &str,
    settings: &ResolvedSettings,
    admin: &AdminCredentials,
    seeded: bool,
    fresh_volume: bool,
) -> Result<AdminSession, OpsError> {
    let url = settings.admin_url();
    let login = AdminLogin::User {
        username: admin.username.clone(),
        password: admin.password.clone(),
    };
    let connect = || AdminSession::connect(&url, &login, reqwest::Client::builder());
    if seeded && fresh_volume {
        let created = engine
            .create_initial_admin(container_id, &admin.username, &admin.password)
            .await?;
        if !created {
            // Keycloak refuses only when the master realm has a user: the image is not what
            // kcdev seeded.
            return Err(OpsError::SeededAdminExists {
                container: container_id.to_owned(),
            });
        }
    }
    match connect().await {
        Err(KeycloakApiError::AdminCredentialsRejected { .. }) if seeded => {
            engine
                .create_initial_admin(container_id, &admin.username, &admin.password)
                .await?;

            Ok(connect().await?)
        }
        result => Ok(result?),
    }
}

async fn start_existing(
    engine: &Engine,
    container: &ObservedContainer,
    wanted: &KeycloakContainer,
    reporter: &dyn Reporter,
) -> Result<ContainerAction, OpsError> {
    if container.status == ContainerStatus::Running {
        return Ok(ContainerAction::AlreadyRunning);
    }
    ensure_ports_free(wanted.http_port, wanted.management_port)?;
    reporter.step("Starting the stopped container");
    engine.start_published(&container.id, wanted).await?;
    Ok(ContainerAction::Started)
}

/// Creates and starts the container; returns its id and whether its data volume is new. When
/// that fails (another instance took the port a moment
/// ago, say), what this call made is undone: the container, a volume it created, and the state
/// file go back to how they were.
async fn create_and_start(
    context: &InstanceContext,
    engine: &Engine,
    wanted: &KeycloakContainer,
    boot: &Boot,
    state: &InstanceState,
    previous: Option<&InstanceState>,
    reporter: &dyn Reporter,
) -> Result<(String, bool), OpsError> {
    ensure_ports_free(wanted.http_port, wanted.management_port)?;
    let volume_existed = engine.volume_exists(&context.instance).await?;
    // The password must be on disk before Keycloak stores it in its database.
    context.state.save(state)?;
    reporter.step("Creating the Keycloak container");
    let created = match engine.create_keycloak(wanted, boot).await {
        Ok(id) => match engine.start_published(&id, wanted).await {
            Ok(()) => return Ok((id, !volume_existed)),
            Err(err) => {
                let _ = engine.remove_container(&id).await;
                err
            }
        },
        Err(err) => err,
    };
    if !volume_existed {
        let _ = engine.remove_volumes(&context.instance).await;
    }
    let _ = match previous {
        Some(previous) => context.state.save(previous).map(|_| ()),
        None => context.state.delete(&context.instance).map(|_| ()),
    };
    Err(created.into())
}

/// Whether a version a server reports is older than kcdev supports (one it cannot read is given
/// the benefit of the doubt: a custom build's version string, say).
fn too_old(reported: &str) -> bool {
    parse_keycloak_version(reported).is_some_and(|v| v < defaults::MIN_KEYCLOAK_VERSION)
}

/// For images that declare no version: ask the running server, and take the container away
/// again if it is too old.
async fn verify_running_version(
    engine: &Engine,
    session: &AdminSession,
    container_id: &str,
    image: &ImageRef,
) -> Result<String, OpsError> {
    let reported = session.server_version().await?;
    if too_old(&reported) {
        engine.stop(container_id, STOP_GRACE_SECONDS).await?;
        engine.remove_container(container_id).await?;
        return Err(OpsError::KeycloakTooOld {
            image: image.to_string(),
            found: reported,
            minimum: defaults::MIN_KEYCLOAK_VERSION.to_string(),
        });
    }
    Ok(reported)
}
