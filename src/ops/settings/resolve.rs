//! Settings resolution, in one layer: each setting is the first of the command-line flag, the
//! environment, the project file (`kcdev.toml`), what the instance remembers from its last `up`,
//! and kcdev's default; where each came from is recorded, for `up -v` and `status`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{InstanceContext, PortRequest, ResolvedSettings};
use crate::defaults;
use crate::docker::{BootMode, ImageRef};
use crate::ops::OpsError;
use crate::ops::up::UpOptions;
use crate::realm::{CimdOptions, Declared, RealmSpec, check_http_url};
use crate::state::{
    AdminCredentials, ContainerSettings, InstanceState, KeycloakSettings, RealmSettings,
    ServerSettings,
};

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingSource {
    Flag,
    Environment,
    ProjectFile,
    /// What the instance's last `up` applied.
    Remembered,
    Default,
}

impl std::fmt::Display for SettingSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Flag => "flag",
            Self::Environment => "environment",
            Self::ProjectFile => "kcdev.toml",
            Self::Remembered => "remembered from the last up",
            Self::Default => "default",
        })
    }
}

/// Each setting's source, by the setting's name.
pub type SettingOrigins = BTreeMap<String, SettingSource>;

/// The settings the environment gives (`KCDEV_REALM`, `KCDEV_SERVER_URL` (comma-separated, the
/// primary first), `KCDEV_USER_PASSWORD`), read once at the edge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentSettings {
    pub realm: Option<String>,
    pub server_urls: Option<Vec<String>>,
    pub user_password: Option<String>,
}

impl EnvironmentSettings {
    pub fn from_environment(var: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| var(name).filter(|value| !value.is_empty());
        Self {
            realm: set("KCDEV_REALM"),
            server_urls: set("KCDEV_SERVER_URL").map(|urls| {
                urls.split(',')
                    .map(|url| url.trim().to_owned())
                    .filter(|url| !url.is_empty())
                    .collect()
            }),
            user_password: set("KCDEV_USER_PASSWORD"),
        }
    }
}

/// Picks the first layer that has a value, recording which one.
struct Layers<'a> {
    origins: &'a mut SettingOrigins,
}

impl Layers<'_> {
    fn pick<T>(
        &mut self,
        setting: &str,
        layers: impl IntoIterator<Item = (SettingSource, Option<T>)>,
        default: impl FnOnce() -> T,
    ) -> T {
        for (source, value) in layers {
            if let Some(value) = value {
                self.origins.insert(setting.to_owned(), source);
                return value;
            }
        }
        self.origins
            .insert(setting.to_owned(), SettingSource::Default);
        default()
    }
}

impl UpOptions {
    /// The settings this `up` will apply, the realm spec they render and the image: everything
    /// checked, nothing changed.
    pub(crate) fn validate(
        &self,
        previous: Option<&InstanceState>,
    ) -> Result<(ResolvedSettings, RealmSpec), OpsError> {
        let settings = self.resolve(previous)?;
        let spec = RealmSpec::render(&settings.realm_variables())?;
        match &settings.keycloak {
            KeycloakSettings::Container { container, .. } => {
                container.image.parse::<ImageRef>()?;
            }
            KeycloakSettings::Server { server } => {
                crate::trust::Trust::from_option(server.ca_cert.as_deref())?;
            }
        }
        // A realm on a shared server goes only with its name spelled out; a name given must be
        // the realm's, wherever it lives.
        let confirmed = match &self.reset_confirmation {
            Some(name) => name == spec.realm_name(),
            None => settings.container().is_some(),
        };
        if self.reset_realm && !confirmed {
            return Err(OpsError::ResetNeedsRealmName {
                realm: spec.realm_name().to_owned(),
                url: settings.keycloak_url(),
            });
        }
        Ok((settings, spec))
    }

    /// Where Keycloak lives: the server `--keycloak-url` names, else the one the last `up`
    /// used, else a container. An instance never moves between the two.
    fn resolve_keycloak(
        &self,
        previous: Option<&InstanceState>,
        layers: &mut Layers<'_>,
    ) -> Result<KeycloakSettings, OpsError> {
        let previous_server = previous.and_then(|state| match &state.keycloak {
            KeycloakSettings::Server { server } => Some(server),
            KeycloakSettings::Container { .. } => None,
        });
        if let Some(state) = previous
            && previous_server.is_none()
            && self.keycloak_url.is_some()
        {
            return Err(OpsError::InstanceRunsContainer {
                instance: state.instance.to_string(),
            });
        }
        let url = match (&self.keycloak_url, previous_server) {
            (Some(url), _) => normalize_keycloak_url(url)?,
            (None, Some(server)) => server.url.clone(),
            (None, None) => {
                if let Some(path) = &self.ca_cert {
                    return Err(OpsError::InvalidOption {
                        flag: "--ca-cert",
                        value: path.display().to_string(),
                        expected: "it together with --keycloak-url (a container kcdev runs speaks plain HTTP on loopback)",
                    });
                }
                let admin = previous.and_then(|state| match &state.keycloak {
                    KeycloakSettings::Container { admin, .. } => Some(admin.clone()),
                    KeycloakSettings::Server { .. } => None,
                });
                return Ok(KeycloakSettings::Container {
                    // Decided under the lock, from the state or the container (see
                    // `admin_credentials`); a placeholder until then.
                    admin: admin.unwrap_or(AdminCredentials {
                        username: defaults::ADMIN_USERNAME.to_owned(),
                        password: String::new(),
                    }),
                    container: self.resolve_container(previous, layers)?,
                });
            }
        };
        let source = if self.keycloak_url.is_some() {
            SettingSource::Flag
        } else {
            SettingSource::Remembered
        };
        layers.origins.insert("keycloak url".to_owned(), source);
        let ca_cert = match &self.ca_cert {
            Some(path) => Some(
                std::path::absolute(path).map_err(|_| OpsError::InvalidOption {
                    flag: "--ca-cert",
                    value: path.display().to_string(),
                    expected: "a path to a PEM file",
                })?,
            ),
            None => previous_server.and_then(|server| server.ca_cert.clone()),
        };
        Ok(KeycloakSettings::Server {
            server: ServerSettings { url, ca_cert },
        })
    }

    fn resolve_container(
        &self,
        previous: Option<&InstanceState>,
        layers: &mut Layers<'_>,
    ) -> Result<ContainerSettings, OpsError> {
        use SettingSource::{Flag, Remembered};
        let container = previous.and_then(|state| state.keycloak.container());
        let (http_port, management_port) = resolve_ports(
            self.http_port,
            self.management_port,
            container.map(|c| (c.http_port, c.management_port)),
        )?;
        Ok(ContainerSettings {
            image: layers.pick(
                "image",
                [
                    (Flag, self.image.clone()),
                    (Remembered, container.map(|c| c.image.clone())),
                ],
                defaults::image,
            ),
            http_port,
            management_port,
            memory_bytes: layers.pick(
                "memory",
                [
                    (Flag, self.memory_bytes),
                    (Remembered, container.map(|c| c.memory_bytes)),
                ],
                || defaults::MEMORY_BYTES,
            ),
            boot: layers.pick(
                "boot",
                [(Flag, self.boot), (Remembered, container.map(|c| c.boot))],
                || BootMode::Optimized,
            ),
        })
    }

    pub(crate) fn resolve(
        &self,
        previous: Option<&InstanceState>,
    ) -> Result<ResolvedSettings, OpsError> {
        use SettingSource::{Environment, Flag, ProjectFile, Remembered};
        let mut origins = SettingOrigins::new();
        let mut layers = Layers {
            origins: &mut origins,
        };
        let keycloak = self.resolve_keycloak(previous, &mut layers)?;
        // Test users and laptop-only registration are a container's always; a shared server's
        // only when asked for, once.
        let managed = keycloak.container().is_some();
        let realm = previous.map(|state| &state.realm);
        let context = &self.context;
        let project = context.project.as_ref();
        let environment = &context.environment;
        let non_empty = |urls: Option<Vec<String>>| urls.filter(|urls| !urls.is_empty());
        let server_urls: Vec<String> = layers
            .pick(
                "server urls",
                [
                    (Flag, non_empty(self.server_urls.clone())),
                    (Environment, non_empty(environment.server_urls.clone())),
                    (
                        ProjectFile,
                        non_empty(project.map(|p| p.server_urls.clone())),
                    ),
                    (
                        Remembered,
                        realm.map(|realm| {
                            std::iter::once(realm.server_url.clone())
                                .chain(realm.additional_server_urls.iter().cloned())
                                .collect()
                        }),
                    ),
                ],
                || vec![defaults::SERVER_URL.to_owned()],
            )
            .iter()
            .map(|url| normalize_server_url(url))
            .collect();
        let opted_in = |flag: Option<bool>, previous: Option<bool>| {
            managed || flag.or(previous).unwrap_or(false)
        };
        let name = layers.pick(
            "realm",
            [
                (Flag, self.realm.clone()),
                (Environment, environment.realm.clone()),
                (ProjectFile, project.and_then(|p| p.realm_name.clone())),
                (Remembered, realm.map(|r| r.name.clone())),
            ],
            || defaults::REALM.to_owned(),
        );
        let user_password = layers.pick(
            "user password",
            [
                (Flag, self.user_password.clone()),
                (Environment, environment.user_password.clone()),
                (Remembered, realm.map(|r| r.user_password.clone())),
            ],
            || defaults::USER_PASSWORD.to_owned(),
        );
        let declared = layers.pick(
            "declarations",
            [
                (ProjectFile, project.map(|p| p.declared.clone())),
                (
                    Remembered,
                    realm
                        .map(|r| r.declared.clone())
                        .filter(|declared| !declared.is_empty()),
                ),
            ],
            Declared::default,
        );
        // kcdev's test users: a container's unless turned off, a shared server's only when
        // asked for.
        let test_users = layers.pick(
            "test users",
            [
                (Flag, self.test_users),
                (ProjectFile, project.and_then(|p| p.test_users)),
                (Remembered, realm.map(|r| r.test_users)),
            ],
            || managed,
        );
        Ok(ResolvedSettings {
            keycloak,
            realm: RealmSettings {
                test_users,
                anonymous_registration: opted_in(
                    self.anonymous_registration,
                    realm.map(|r| r.anonymous_registration),
                ),
                name,
                server_url: server_urls[0].clone(),
                additional_server_urls: server_urls[1..].to_vec(),
                resource_indicators: self
                    .resource_indicators
                    .or(realm.map(|r| r.resource_indicators))
                    .unwrap_or(false),
                extra_trusted_hosts: self
                    .trusted_hosts
                    .clone()
                    .or_else(|| realm.map(|r| r.extra_trusted_hosts.clone()))
                    .unwrap_or_default(),
                user_password,
                cimd: match self.cimd {
                    Some(false) => None,
                    Some(true) => Some(CimdOptions {
                        extra_domains: self
                            .cimd_domains
                            .clone()
                            .or_else(|| {
                                realm
                                    .and_then(|r| r.cimd.as_ref())
                                    .map(|c| c.extra_domains.clone())
                            })
                            .unwrap_or_default(),
                    }),
                    None => realm.and_then(|r| r.cimd.clone()),
                },
                declared,
                events: opted_in(self.events, realm.map(|r| r.events)),
                // Whether the Keycloak has kcdev's provider, as the last `up` found (a new
                // container has it); every `up` looks again.
                registered_client_scopes: realm
                    .map(|r| r.registered_client_scopes)
                    .unwrap_or_default(),
            },
            origins,
        })
    }
}

impl InstanceContext {
    /// The settings `up` would apply without flags: the environment and the project file over
    /// what the instance remembers. What `plan` compares the realm with, and `export` writes.
    pub fn settings_without_flags(
        &self,
        state: Option<&InstanceState>,
    ) -> Result<ResolvedSettings, OpsError> {
        UpOptions::without_flags(self.clone()).resolve(state)
    }
}

/// The two host ports: each as asked, else as the last `up` chose (so `auto` sticks), else the
/// default. `auto` keeps the port the instance already has and picks a free one only for a new
/// instance, never one the other port uses.
fn resolve_ports(
    http: Option<PortRequest>,
    management: Option<PortRequest>,
    previous: Option<(u16, u16)>,
) -> Result<(u16, u16), OpsError> {
    let fixed = |request: Option<PortRequest>, previous: Option<u16>, default: u16| match request {
        Some(PortRequest::Fixed(port)) => Some(port),
        Some(PortRequest::Auto) => previous,
        None => previous.or(Some(default)),
    };
    let mut http_port = fixed(http, previous.map(|p| p.0), defaults::HTTP_PORT);
    let mut management_port = fixed(management, previous.map(|p| p.1), defaults::MANAGEMENT_PORT);
    let pick = |taken: Option<u16>| {
        (0..20)
            .filter_map(|_| port_check::free_local_port())
            .find(|port| Some(*port) != taken)
            .ok_or(OpsError::NoFreePort)
    };
    if http_port.is_none() {
        http_port = Some(pick(management_port)?);
    }
    if management_port.is_none() {
        management_port = Some(pick(http_port)?);
    }
    match (http_port, management_port) {
        (Some(http), Some(management)) if http != management => Ok((http, management)),
        (Some(port), Some(_)) => Err(OpsError::SamePorts { port }),
        _ => Err(OpsError::NoFreePort),
    }
}

/// The server URL as clients will write it (scheme and host lower-cased, no trailing slash), so
/// the audience in tokens is exactly the URL they connect to. Text that is not a valid URL is kept
/// as given, for validation to name.
fn normalize_server_url(text: &str) -> String {
    let text = text.trim_end_matches('/');
    if check_http_url("server URL", text).is_err() {
        return text.to_owned();
    }
    match url::Url::parse(text) {
        Ok(url) if url.path() == "/" => url.as_str().trim_end_matches('/').to_owned(),
        Ok(url) => url.as_str().to_owned(),
        Err(_) => text.to_owned(),
    }
}

/// A Keycloak base URL as kcdev stores it: http(s), no trailing slash, nothing after the path.
fn normalize_keycloak_url(text: &str) -> Result<String, OpsError> {
    let text = text.trim_end_matches('/');
    check_http_url("Keycloak URL", text)?;
    Ok(normalize_server_url(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_written_as_clients_write_them() {
        assert_eq!(
            normalize_server_url("HTTP://LocalHost:8000/"),
            "http://localhost:8000"
        );
        assert_eq!(
            normalize_server_url("http://localhost:80/api/"),
            "http://localhost/api"
        );
        assert_eq!(
            normalize_server_url("http://[::1]:8000"),
            "http://[::1]:8000"
        );
        // Not valid: kept for validation to refuse.
        assert_eq!(
            normalize_server_url("http://bücher.example"),
            "http://bücher.example"
        );
    }

    #[test]
    fn auto_ports_stick_and_never_collide() {
        let auto = Some(PortRequest::Auto);
        let (http, management) = resolve_ports(auto, auto, None).unwrap();
        assert!(http > 0 && management > 0 && http != management);
        assert_eq!(
            resolve_ports(auto, auto, Some((8081, 9001))).unwrap(),
            (8081, 9001)
        );
        assert_eq!(resolve_ports(None, None, None).unwrap(), (8080, 9000));
        assert_eq!(
            resolve_ports(Some(PortRequest::Fixed(7000)), None, Some((8081, 9001))).unwrap(),
            (7000, 9001)
        );
        let (_, management) = resolve_ports(Some(PortRequest::Fixed(7001)), auto, None).unwrap();
        assert_ne!(management, 7001);
        assert!(matches!(
            resolve_ports(
                Some(PortRequest::Fixed(7002)),
                Some(PortRequest::Fixed(7002)),
                None
            ),
            Err(OpsError::SamePorts { port: 7002 })
        ));
    }
}
