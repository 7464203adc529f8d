//! `kcdev doctor`: checks the chain an MCP client goes through, in order, and says what is
//! wrong and how to fix it. A failed link skips the checks that depend on it.

mod login;
mod server;

use serde::Serialize;

use super::OpsError;
use super::settings::{InstanceContext, RegistrationPaths, ResolvedSettings};
use crate::defaults;
use crate::docker::{ContainerStatus, Engine, parse_keycloak_version, probe_ready};
use crate::keycloak::AdminSession;
use crate::oauth;
use crate::realm::{self, RealmSpec};
use crate::state::InstanceState;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// It holds.
    Pass,
    /// It does not: this is a fault.
    Fail,
    /// Not checked (an earlier link failed, or nothing to check).
    Skip,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// The outcome.
    pub status: CheckStatus,
    /// One line saying why.
    pub detail: String,
    /// What to do about a failure.
    pub hint: Option<String>,
    /// For a failure Keycloak recorded: the `kcdev events` command whose line says why, in MCP
    /// terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<String>,
}

/// Every check, in chain order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    /// Instance name.
    pub instance: String,
    /// The checks.
    pub checks: Vec<Check>,
}

impl DoctorReport {
    /// No check failed.
    pub fn healthy(&self) -> bool {
        self.checks
            .iter()
            .all(|check| check.status != CheckStatus::Fail)
    }
}

/// What `kcdev doctor` was asked to check.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// Instance, engine and state directory.
    pub context: InstanceContext,
    /// MCP server base URL, instead of the instance's.
    pub server_url: Option<String>,
}

struct Checks {
    context: InstanceContext,
    checks: Vec<Check>,
    /// Whether the realm records events (`kcdev events` has lines to show).
    events: bool,
    /// Whether `kcdev events` can read them: an admin login is at hand.
    admin_login: bool,
}

impl Checks {
    fn command(&self, subcommand: &str) -> String {
        let instance = &self.context.instance;
        if *instance == crate::instance::Instance::default_instance() {
            format!("kcdev {subcommand}")
        } else {
            format!("kcdev {subcommand} --instance {instance}")
        }
    }

    fn pass(&mut self, name: &'static str, detail: String) {
        self.checks.push(Check {
            name,
            status: CheckStatus::Pass,
            detail,
            hint: None,
            events: None,
        });
    }

    fn fail(&mut self, name: &'static str, detail: String, hint: String) {
        self.checks.push(Check {
            name,
            status: CheckStatus::Fail,
            detail,
            hint: Some(hint),
            events: None,
        });
    }

    /// A failure Keycloak recorded: the check names the `kcdev events` line that says why
    /// (`filter`: `--client ID`, or empty), the `event` type that line has.
    fn fail_recorded(
        &mut self,
        name: &'static str,
        detail: String,
        hint: String,
        filter: &str,
        event: &str,
    ) {
        self.fail(name, detail, hint);
        if !self.events {
            return;
        }
        let command = self.command(&format!("events --errors --since 10m{filter}"));
        let admin = if self.admin_login {
            ""
        } else {
            " (with KCDEV_ADMIN_* set)"
        };
        if let Some(check) = self.checks.last_mut() {
            check.events = Some(format!("`{command}`{admin}: the {event} line says why"));
        }
    }

    fn skip(&mut self, names: &[&'static str], detail: &str) {
        for name in names {
            self.checks.push(Check {
                name,
                status: CheckStatus::Skip,
                detail: detail.to_owned(),
                hint: None,
                events: None,
            });
        }
    }
}

/// The causes below an error, for a check's one line (a TLS failure is only named there).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut causes = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes.join(": ")
}

const AFTER_ENGINE: &[&str] = &[
    "container",
    "keycloak",
    "realm",
    "registration",
    "login",
    "server",
];

/// Runs every check. Only trouble with kcdev's own state is an error; faults are results.
pub async fn doctor(options: DoctorOptions) -> Result<DoctorReport, OpsError> {
    if let Some(url) = &options.server_url {
        crate::realm::check_http_url("server URL", url.trim_end_matches('/'))?;
    }
    let mut checks = Checks {
        admin_login: options.context.server_admin.is_some(),
        context: options.context.clone(),
        checks: Vec::new(),
        events: false,
    };
    run(&mut checks, options.server_url).await?;
    Ok(DoctorReport {
        instance: options.context.instance.to_string(),
        checks: checks.checks,
    })
}

async fn run(checks: &mut Checks, server_url: Option<String>) -> Result<(), OpsError> {
    let state = checks.context.load_state()?;
    let settings = match state.as_ref().map(ResolvedSettings::from_state) {
        // A server kcdev does not run: nothing of Docker's to check.
        Some(settings) if settings.container().is_none() => settings,
        _ => {
            let Some(state) = check_engine_and_container(checks, state.as_ref()).await? else {
                return Ok(());
            };
            ResolvedSettings::from_state(&state)
        }
    };
    checks.events = settings.realm.events;
    checks.admin_login |= settings.container().is_some();
    let spec = RealmSpec::render(&settings.realm_variables())?;
    let http = oauth::http_client(&settings.trust()?)?;
    if checks.admin_login {
        let Some(session) = check_keycloak(checks, &settings).await else {
            checks.skip(&AFTER_ENGINE[2..], "needs Keycloak ready");
            return Ok(());
        };
        let marks = state.map(|state| state.password_marks).unwrap_or_default();
        check_realm(checks, &session, &spec, &marks).await;
    } else {
        // A server kcdev does not run, without an admin login: what needs none is checked.
        if !check_discovery(checks, &http, &settings).await {
            checks.skip(&AFTER_ENGINE[1..], "needs the realm to answer");
            return Ok(());
        }
        checks.skip(
            &["keycloak", "realm"],
            "needs an admin login, and the environment has none (KCDEV_ADMIN_USERNAME and KCDEV_ADMIN_PASSWORD, or KCDEV_ADMIN_CLIENT_ID and KCDEV_ADMIN_CLIENT_SECRET)",
        );
    }
    if spec.cimd.is_some() {
        login::check_cimd(checks, &http, &settings).await;
    }
    let probe = if spec.anonymous_registration_policies.is_some() {
        let Some(probe) = login::check_registration(checks, &http, &settings, &spec).await else {
            checks.skip(&["login", "server"], "needs a registered client");
            return Ok(());
        };
        Some(probe)
    } else {
        checks.skip(
            &["registration"],
            "kcdev leaves this server's anonymous registration policies as they are (`up --anonymous-registration` makes them kcdev's)",
        );
        None
    };
    if spec.users.is_empty() {
        checks.skip(
            &["login", "server"],
            "the realm has no test users on this server (`up --test-users` adds them)",
        );
        return Ok(());
    }
    let registered = probe.is_some();
    let probe = probe.unwrap_or_else(|| login::Probe {
        client: login::pre_registered_client(),
        login_scope: format!("openid {}", spec.mcp_scope),
    });
    let client = probe.client;
    let server_url = server_url.unwrap_or_else(|| settings.realm.server_url.clone());
    let token = login::check_login(
        checks,
        &http,
        &settings,
        &spec,
        &client,
        &probe.login_scope,
        server_url.trim_end_matches('/'),
    )
    .await;
    // Clean up after ourselves, the way a client deleting its registration would.
    if registered {
        let _ = oauth::delete_registration(&http, &client).await;
    }
    if settings.realm.resource_indicators {
        login::check_resources(checks, &http, &settings, &spec).await;
    }
    login::check_declared_users(checks, &http, &settings, &spec).await;
    match token {
        Some(token) => {
            server::check_server(
                checks,
                &settings,
                &spec,
                server_url.trim_end_matches('/'),
                &token,
            )
            .await
        }
        None => checks.skip(&["server"], "needs a token"),
    }
    Ok(())
}

/// The Docker engine and the instance's container; the state when both are there and running.
async fn check_engine_and_container(
    checks: &mut Checks,
    state: Option<&InstanceState>,
) -> Result<Option<InstanceState>, OpsError> {
    let engine = match checks.context.engine().await {
        Ok(engine) => {
            checks.pass(
                "docker",
                format!("Docker engine answers at {}", engine.endpoint()),
            );
            engine
        }
        Err(err) => {
            checks.fail(
                "docker",
                format!("{err}"),
                "start Docker, or point DOCKER_HOST at your engine".to_owned(),
            );
            checks.skip(AFTER_ENGINE, "needs the Docker engine");
            return Ok(None);
        }
    };
    let Some(state) = state else {
        checks.fail(
            "container",
            format!("instance {} was never brought up", checks.context.instance),
            checks.command("up"),
        );
        checks.skip(&AFTER_ENGINE[1..], "needs the instance");
        return Ok(None);
    };
    if !check_container(checks, &engine, state).await? {
        checks.skip(&AFTER_ENGINE[1..], "needs the container running");
        return Ok(None);
    }
    Ok(Some(state.clone()))
}

async fn check_container(
    checks: &mut Checks,
    engine: &Engine,
    state: &InstanceState,
) -> Result<bool, OpsError> {
    match engine.find_container(&state.instance).await? {
        None => {
            checks.fail(
                "container",
                format!("instance {} has no Keycloak container", state.instance),
                checks.command("up"),
            );
            Ok(false)
        }
        Some(container) if container.status != ContainerStatus::Running => {
            let status = serde_json::to_value(container.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            checks.fail(
                "container",
                format!(
                    "{} is {status} (exit code {}{})",
                    container.name,
                    container.exit_code,
                    if container.oom_killed {
                        ", out of memory"
                    } else {
                        ""
                    }
                ),
                format!("`{}` starts it again", checks.command("up")),
            );
            Ok(false)
        }
        Some(container) => {
            let health = container
                .health
                .map(|h| format!(", Docker health {h}"))
                .unwrap_or_default();
            checks.pass(
                "container",
                format!("{} is running{health}", container.name),
            );
            Ok(true)
        }
    }
}

/// The realm's OpenID discovery document, whose issuer must be the realm's: what every client
/// reads first, and needs no admin login.
async fn check_discovery(
    checks: &mut Checks,
    http: &reqwest::Client,
    settings: &ResolvedSettings,
) -> bool {
    let urls = settings.realm_urls();
    let metadata: Result<serde_json::Value, String> = match http.get(&urls.discovery).send().await {
        Ok(response) if response.status().is_success() => {
            response.json().await.map_err(|err| err.to_string())
        }
        Ok(response) => Err(format!("HTTP {}", response.status().as_u16())),
        Err(err) => Err(format!("{err}: {}", error_chain(&err))),
    };
    match metadata {
        Ok(metadata) if metadata["issuer"] == urls.issuer.as_str() => {
            checks.pass(
                "discovery",
                format!("{} answers with the issuer {}", urls.discovery, urls.issuer),
            );
            true
        }
        Ok(metadata) => {
            checks.fail(
                "discovery",
                format!(
                    "{} names the issuer {}, not {}",
                    urls.discovery, metadata["issuer"], urls.issuer
                ),
                "point kcdev at the URL clients use: `kcdev up --keycloak-url URL`".to_owned(),
            );
            false
        }
        Err(err) => {
            checks.fail(
                "discovery",
                format!("{} does not answer: {err}", urls.discovery),
                format!(
                    "check the server's URL and that realm {} exists there (--ca-cert for a private CA)",
                    settings.realm.name
                ),
            );
            false
        }
    }
}

async fn check_keycloak(checks: &mut Checks, settings: &ResolvedSettings) -> Option<AdminSession> {
    if let Some(container) = settings.container()
        && let Err(status) = probe_ready(&reqwest::Client::new(), container.management_port).await
    {
        checks.fail(
            "keycloak",
            format!("not ready: {status}"),
            format!("`{}` shows why", checks.command("logs")),
        );
        return None;
    }
    let session = match checks.context.admin_session(settings).await {
        Ok(session) => session,
        Err(err) => {
            let hint = if settings.container().is_some() {
                format!(
                    "`{}` then `{}` starts over",
                    checks.command("down --volumes"),
                    checks.command("up")
                )
            } else {
                "check the server's URL, --ca-cert for a private CA, and KCDEV_ADMIN_USERNAME/KCDEV_ADMIN_PASSWORD or KCDEV_ADMIN_CLIENT_ID/KCDEV_ADMIN_CLIENT_SECRET".to_owned()
            };
            checks.fail("keycloak", format!("{err}: {}", error_chain(&err)), hint);
            return None;
        }
    };
    match session.server_version().await {
        Ok(version) => {
            let supported = parse_keycloak_version(&version)
                .is_some_and(|v| v >= defaults::MIN_KEYCLOAK_VERSION);
            if supported {
                checks.pass(
                    "keycloak",
                    format!(
                        "ready, Keycloak {version} ({} or later required)",
                        defaults::MIN_KEYCLOAK_VERSION
                    ),
                );
            } else {
                checks.fail(
                    "keycloak",
                    format!("Keycloak {version} is older than {}: dynamic client registration is broken with MCP clients", defaults::MIN_KEYCLOAK_VERSION),
                    format!("`{} --image {} --recreate`", checks.command("up"), defaults::image()),
                );
            }
        }
        Err(err) => checks.fail(
            "keycloak",
            err.to_string(),
            format!("`{}` shows why", checks.command("logs")),
        ),
    }
    Some(session)
}

async fn check_realm(
    checks: &mut Checks,
    session: &AdminSession,
    spec: &RealmSpec,
    marks: &realm::PasswordMarks,
) {
    match realm::drift(session, spec, marks).await {
        Ok(None) => checks.fail(
            "realm",
            format!("realm {} does not exist", spec.realm_name()),
            format!("`{}` creates it", checks.command("up")),
        ),
        Ok(Some(plan)) if plan.changes.is_empty() => checks.pass(
            "realm",
            format!(
                "{} matches kcdev's spec (pre-registered clients {} with their redirect URIs{})",
                spec.realm_name(),
                RegistrationPaths::of(spec).pre_registered.join(", "),
                if spec.cimd.is_some() {
                    ", the CIMD profile and policy"
                } else {
                    ""
                }
            ),
        ),
        Ok(Some(plan)) => {
            let drift: Vec<String> = plan
                .changes
                .iter()
                .map(|c| format!("{} {}", c.kind, c.object))
                .collect();
            checks.fail(
                "realm",
                format!(
                    "{} differs from kcdev's spec; needs: {}",
                    spec.realm_name(),
                    drift.join(", ")
                ),
                format!("`{}` repairs it", checks.command("up")),
            );
        }
        Err(err) => checks.fail(
            "realm",
            err.to_string(),
            format!("`{}` repairs it", checks.command("up")),
        ),
    }
}
