use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, HealthConfig,
    HealthStatusEnum, HostConfig, Mount, MountType, PortBinding,
};
use serde::Serialize;

use super::boot::{Boot, BootMode};
use crate::instance::{
    Instance, LABEL_BASE_IMAGE, LABEL_BOOT, LABEL_FEATURES, LABEL_KEYCLOAK_VERSION,
};

const HTTP_CONTAINER_PORT: &str = "8080/tcp";
const MANAGEMENT_CONTAINER_PORT: &str = "9000/tcp";
const DATA_DIR: &str = "/opt/keycloak/data";
const LOOPBACK: &str = "127.0.0.1";
const ADMIN_PASSWORD_ENV: &str = "KC_BOOTSTRAP_ADMIN_PASSWORD";
const SECOND_NS: i64 = 1_000_000_000;
const MIB: u64 = 1 << 20;
/// What the JVM needs beside the heap (metaspace, code cache, threads, direct buffers) in
/// Keycloak 26, with room to spare: the container limit minus this is the heap.
const NON_HEAP_BYTES: u64 = 350 * MIB;

/// The Keycloak container kcdev wants: everything that decides how it is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeycloakContainer {
    /// The instance it belongs to (names and labels).
    pub instance: Instance,
    /// The image the user chose (or the pinned default); an optimized boot runs an image derived
    /// from it.
    pub base_image: String,
    pub boot: BootMode,
    /// Keycloak version of the image, recorded as a label.
    pub keycloak_version: Option<String>,
    /// Host port for HTTP, published on 127.0.0.1.
    pub http_port: u16,
    /// Host port for the management interface, published on 127.0.0.1.
    pub management_port: u16,
    /// Memory limit in bytes.
    pub memory_bytes: u64,
    /// Keycloak's experimental features the realm needs (`cimd`, ...), sorted. An optimized boot
    /// has them built into its derived image; a dev boot turns them on at start.
    pub features: Vec<String>,
    /// Bootstrap admin user name.
    pub admin_username: String,
    /// Bootstrap admin password.
    pub admin_password: String,
}

/// One setting where the existing container differs from what is wanted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingDifference {
    /// The setting.
    pub setting: &'static str,
    /// What the container has.
    pub current: String,
    /// What is wanted now.
    pub wanted: String,
}

/// Coarse container state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContainerStatus {
    /// Created but never started.
    Created,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Restarting.
    Restarting,
    /// Stopped.
    Exited,
    /// Being removed, dead, or unknown.
    Other,
}

/// What the engine reports about an existing Keycloak container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedContainer {
    /// Container id.
    pub id: String,
    /// Container name.
    pub name: String,
    /// State.
    pub status: ContainerStatus,
    /// Docker health status ("starting", "healthy", "unhealthy"), if a health check is set.
    pub health: Option<String>,
    /// Exit code of the last run.
    pub exit_code: i64,
    /// Whether the last run was killed for exceeding its memory limit.
    pub oom_killed: bool,
    /// Image reference it was created from.
    pub image: String,
    /// The image the user chose, which `image` was derived from (the same for a dev boot).
    pub base_image: String,
    /// How it boots: `dev`, `built` or `seeded` (see [`Boot::label`]).
    pub boot: String,
    /// Keycloak version recorded when it was created.
    pub keycloak_version: Option<String>,
    pub features: Vec<String>,
    /// Published HTTP address (host IP, port).
    pub http_binding: Option<(String, u16)>,
    /// Published management address (host IP, port).
    pub management_binding: Option<(String, u16)>,
    /// Memory limit in bytes (0 = none).
    pub memory_bytes: u64,
    /// Volume mounted on Keycloak's data directory.
    pub data_volume: Option<String>,
    /// Bootstrap admin password from the container's environment.
    pub admin_password: Option<String>,
}

/// [`SettingDifference::setting`] of the Keycloak features.
const FEATURES_SETTING: &str = "features";

impl SettingDifference {
    /// Whether the difference is only what a realm mode the user switched (`up --cimd`) needs: the
    /// container is then replaced without asking for `--recreate`, keeping its volume.
    pub fn follows_realm_modes(&self) -> bool {
        self.setting == FEATURES_SETTING
    }
}

impl KeycloakContainer {
    /// Issuer base URL: fixed, so tokens carry the same `iss` however Keycloak is reached.
    pub fn public_url(&self) -> String {
        format!("http://localhost:{}", self.http_port)
    }

    /// The JVM heap for the memory limit: the limit less what Keycloak needs beside the heap,
    /// so that a small limit (768m) leaves the JVM room instead of being killed for exceeding
    /// it, which Keycloak's own 70 % default risks. The initial heap stays small, for a small
    /// idle footprint.
    pub fn heap_options(&self) -> String {
        let limit = self.memory_bytes;
        let max = limit.saturating_sub(NON_HEAP_BYTES).max(limit / 2) / MIB;
        format!("-Xms{}m -Xmx{max}m", max.min(256))
    }

    /// The engine request that creates this container, booting as `boot` says (which must be of
    /// this container's boot mode).
    pub fn create_body(&self, boot: &Boot) -> ContainerCreateBody {
        let mut labels = self.instance.labels();
        if let Some(version) = &self.keycloak_version {
            labels.insert(LABEL_KEYCLOAK_VERSION.to_owned(), version.clone());
        }
        labels.insert(LABEL_BASE_IMAGE.to_owned(), self.base_image.clone());
        labels.insert(LABEL_BOOT.to_owned(), boot.label().to_owned());
        labels.insert(LABEL_FEATURES.to_owned(), self.features.join(","));
        let mut env = vec![
            format!("KC_BOOTSTRAP_ADMIN_USERNAME={}", self.admin_username),
            format!("{ADMIN_PASSWORD_ENV}={}", self.admin_password),
            format!("KC_HOSTNAME={}", self.public_url()),
            format!("JAVA_OPTS_KC_HEAP={}", self.heap_options()),
        ];
        match boot {
            // A build option: an optimized image has it built in.
            Boot::Dev => {
                env.push("KC_HEALTH_ENABLED=true".to_owned());
                if !self.features.is_empty() {
                    env.push(format!("KC_FEATURES={}", self.features.join(",")));
                }
            }
            Boot::Optimized { .. } => {}
        }
        if let Some(options) = boot.jvm_options() {
            env.push(format!("JAVA_OPTS_APPEND={options}"));
        }
        let bind = |port: u16| {
            Some(vec![PortBinding {
                host_ip: Some(LOOPBACK.to_owned()),
                host_port: Some(port.to_string()),
            }])
        };
        ContainerCreateBody {
            image: Some(boot.image(&self.base_image).to_owned()),
            cmd: Some(boot.command()),
            env: Some(env),
            labels: Some(labels),
            exposed_ports: Some(vec![
                HTTP_CONTAINER_PORT.to_owned(),
                MANAGEMENT_CONTAINER_PORT.to_owned(),
            ]),
            // The image has no curl; bash's /dev/tcp can still ask the management port.
            healthcheck: Some(HealthConfig {
                test: Some(vec![
                    "CMD".to_owned(),
                    "bash".to_owned(),
                    "-c".to_owned(),
                    "exec 3<>/dev/tcp/127.0.0.1/9000 && printf 'GET /health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '\"UP\"' <&3".to_owned(),
                ]),
                interval: Some(10 * SECOND_NS),
                timeout: Some(5 * SECOND_NS),
                retries: Some(3),
                start_period: Some(120 * SECOND_NS),
                ..Default::default()
            }),
            host_config: Some(HostConfig {
                port_bindings: Some(HashMap::from([
                    (HTTP_CONTAINER_PORT.to_owned(), bind(self.http_port)),
                    (MANAGEMENT_CONTAINER_PORT.to_owned(), bind(self.management_port)),
                ])),
                mounts: Some(vec![Mount {
                    typ: Some(MountType::VOLUME),
                    source: Some(self.instance.volume_name()),
                    target: Some(DATA_DIR.to_owned()),
                    ..Default::default()
                }]),
                memory: i64::try_from(self.memory_bytes).ok(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Settings of `existing` that no longer match this request.
    pub fn differences(&self, existing: &ObservedContainer) -> Vec<SettingDifference> {
        let binding = |binding: &Option<(String, u16)>| {
            binding
                .as_ref()
                .map_or_else(|| "none".to_owned(), |(ip, port)| format!("{ip}:{port}"))
        };
        let features = |features: &[String]| {
            if features.is_empty() {
                "none".to_owned()
            } else {
                features.join(",")
            }
        };
        let mode = |boot: &str| {
            if boot == Boot::Dev.label() {
                "dev"
            } else {
                "optimized"
            }
        };
        let candidates = [
            (
                "image",
                existing.base_image.clone(),
                self.base_image.clone(),
            ),
            (
                "boot",
                mode(&existing.boot).to_owned(),
                match self.boot {
                    BootMode::Dev => "dev",
                    BootMode::Optimized => "optimized",
                }
                .to_owned(),
            ),
            (
                FEATURES_SETTING,
                features(&existing.features),
                features(&self.features),
            ),
            (
                "HTTP port",
                binding(&existing.http_binding),
                format!("{LOOPBACK}:{}", self.http_port),
            ),
            (
                "management port",
                binding(&existing.management_binding),
                format!("{LOOPBACK}:{}", self.management_port),
            ),
            (
                "memory limit",
                format_bytes(existing.memory_bytes),
                format_bytes(self.memory_bytes),
            ),
            (
                "data volume",
                existing
                    .data_volume
                    .clone()
                    .unwrap_or_else(|| "none".to_owned()),
                self.instance.volume_name(),
            ),
        ];
        candidates
            .into_iter()
            .filter(|(_, current, wanted)| current != wanted)
            .map(|(setting, current, wanted)| SettingDifference {
                setting,
                current,
                wanted,
            })
            .collect()
    }
}

/// Renders a byte count the way `--memory` accepts it.
pub fn format_bytes(bytes: u64) -> String {
    const GIB: u64 = 1 << 30;
    match bytes {
        0 => "unlimited".to_owned(),
        b if b % GIB == 0 => format!("{}g", b / GIB),
        b if b % MIB == 0 => format!("{}m", b / MIB),
        b => format!("{b}b"),
    }
}

impl ObservedContainer {
    /// Extracts what kcdev needs from an inspect response.
    pub(crate) fn from_inspect(inspect: ContainerInspectResponse) -> Self {
        let state = inspect.state.unwrap_or_default();
        let config = inspect.config.unwrap_or_default();
        let host_config = inspect.host_config.unwrap_or_default();
        let port_bindings = host_config.port_bindings.unwrap_or_default();
        let binding = |port: &str| {
            let first = port_bindings.get(port)?.as_ref()?.first()?;
            let port = first.host_port.as_deref()?.parse().ok()?;
            Some((first.host_ip.clone().unwrap_or_default(), port))
        };
        let status = match state.status {
            Some(ContainerStateStatusEnum::CREATED) => ContainerStatus::Created,
            Some(ContainerStateStatusEnum::RUNNING) => ContainerStatus::Running,
            Some(ContainerStateStatusEnum::PAUSED) => ContainerStatus::Paused,
            Some(ContainerStateStatusEnum::RESTARTING) => ContainerStatus::Restarting,
            Some(ContainerStateStatusEnum::EXITED) => ContainerStatus::Exited,
            _ => ContainerStatus::Other,
        };
        let health = state
            .health
            .and_then(|health| health.status)
            .filter(|status| !matches!(status, HealthStatusEnum::EMPTY | HealthStatusEnum::NONE))
            .map(|status| status.to_string());
        let data_volume = inspect
            .mounts
            .unwrap_or_default()
            .into_iter()
            .find_map(|mount| {
                (mount.destination.as_deref() == Some(DATA_DIR))
                    .then_some(mount.name)
                    .flatten()
            });
        let admin_password = config
            .env
            .unwrap_or_default()
            .into_iter()
            .find_map(|entry| {
                entry
                    .strip_prefix(ADMIN_PASSWORD_ENV)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(str::to_owned)
            });
        let mut labels = config.labels.unwrap_or_default();
        let image = config.image.unwrap_or_default();
        Self {
            id: inspect.id.unwrap_or_default(),
            name: inspect
                .name
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_owned(),
            status,
            health,
            exit_code: state.exit_code.unwrap_or_default(),
            oom_killed: state.oom_killed.unwrap_or_default(),
            // Containers made before kcdev recorded these ran their own image in dev mode.
            base_image: labels
                .remove(LABEL_BASE_IMAGE)
                .unwrap_or_else(|| image.clone()),
            boot: labels
                .remove(LABEL_BOOT)
                .unwrap_or_else(|| Boot::Dev.label().to_owned()),
            image,
            keycloak_version: labels.remove(LABEL_KEYCLOAK_VERSION),
            features: labels
                .remove(LABEL_FEATURES)
                .map(|list| {
                    list.split(',')
                        .filter(|f| !f.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            http_binding: binding(HTTP_CONTAINER_PORT),
            management_binding: binding(MANAGEMENT_CONTAINER_PORT),
            memory_bytes: host_config
                .memory
                .and_then(|memory| u64::try_from(memory).ok())
                .unwrap_or_default(),
            data_volume,
            admin_password,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted() -> KeycloakContainer {
        KeycloakContainer {
            instance: "t".parse().unwrap(),
            base_image: "kc:26.7.5".into(),
            boot: BootMode::Dev,
            keycloak_version: Some("26.7.5".into()),
            http_port: 8080,
            management_port: 9000,
            memory_bytes: 1 << 30,
            features: vec![],
            admin_username: "admin".into(),
            admin_password: "pw".into(),
        }
    }

    fn observed_from(body: &ContainerCreateBody) -> ObservedContainer {
        // Feed the create request back through the inspect parser, the way the engine echoes it.
        let json = serde_json::json!({
            "Id": "abc",
            "Name": "/kcdev-t-keycloak",
            "State": {"Status": "running", "ExitCode": 0, "OOMKilled": false, "Health": {"Status": "healthy"}},
            "Config": {"Image": body.image, "Env": body.env, "Labels": body.labels},
            "HostConfig": serde_json::to_value(body.host_config.as_ref().unwrap()).unwrap(),
            "Mounts": [{"Type": "volume", "Name": "kcdev-t-data", "Destination": DATA_DIR}],
        });
        ObservedContainer::from_inspect(serde_json::from_value(json).unwrap())
    }

    #[test]
    fn publishes_only_on_loopback_with_a_fixed_issuer() {
        let body = wanted().create_body(&Boot::Dev);
        let bindings = body
            .host_config
            .as_ref()
            .unwrap()
            .port_bindings
            .as_ref()
            .unwrap();
        for binding in bindings.values() {
            assert_eq!(
                binding.as_ref().unwrap()[0].host_ip.as_deref(),
                Some("127.0.0.1")
            );
        }
        let env = body.env.unwrap();
        assert!(env.contains(&"KC_HOSTNAME=http://localhost:8080".to_owned()));
        assert!(env.contains(&"KC_HEALTH_ENABLED=true".to_owned()));
        assert!(env.contains(&"JAVA_OPTS_KC_HEAP=-Xms256m -Xmx674m".to_owned()));
    }

    #[test]
    fn an_optimized_boot_runs_the_derived_image_in_production_mode() {
        let optimized = KeycloakContainer {
            boot: BootMode::Optimized,
            memory_bytes: 768 << 20,
            ..wanted()
        };
        let seeded = Boot::Optimized {
            image: "kcdev/keycloak-optimized:26.7.5-abc-seeded".into(),
            seeded: true,
        };
        let body = optimized.create_body(&seeded);
        assert_eq!(
            body.image.as_deref(),
            Some("kcdev/keycloak-optimized:26.7.5-abc-seeded")
        );
        assert_eq!(body.cmd.as_ref().unwrap()[..2], ["start", "--optimized"]);
        let env = body.env.unwrap();
        assert!(
            !env.iter().any(|e| e.starts_with("KC_HEALTH_ENABLED")),
            "a build option"
        );
        assert!(env.contains(&"JAVA_OPTS_KC_HEAP=-Xms256m -Xmx418m".to_owned()));
        let jvm = env
            .iter()
            .find_map(|e| e.strip_prefix("JAVA_OPTS_APPEND="))
            .unwrap();
        assert!(jvm.starts_with("-XX:TieredStopAtLevel=1"), "{jvm}");
        assert!(jvm.contains("-XX:SharedArchiveFile="), "seeded: {jvm}");
        let observed = observed_from(&optimized.create_body(&seeded));
        assert_eq!(observed.base_image, "kc:26.7.5");
        assert_eq!(observed.boot, "seeded");
        assert_eq!(optimized.differences(&observed), vec![]);
        // A container on the built image is the same boot once a seeded one exists: kept.
        let built = Boot::Optimized {
            image: "kcdev/keycloak-optimized:26.7.5-abc-built".into(),
            seeded: false,
        };
        let on_built = observed_from(&optimized.create_body(&built));
        assert_eq!(optimized.differences(&on_built), vec![]);
        let dev = KeycloakContainer {
            boot: BootMode::Dev,
            ..optimized
        };
        assert_eq!(dev.differences(&observed)[0].setting, "boot");
    }

    #[test]
    fn an_unchanged_container_has_no_differences() {
        let observed = observed_from(&wanted().create_body(&Boot::Dev));
        assert_eq!(observed.status, ContainerStatus::Running);
        assert_eq!(observed.health.as_deref(), Some("healthy"));
        assert_eq!(observed.admin_password.as_deref(), Some("pw"));
        assert_eq!(observed.keycloak_version.as_deref(), Some("26.7.5"));
        assert_eq!(wanted().differences(&observed), vec![]);
    }

    #[test]
    fn names_each_changed_setting() {
        let observed = observed_from(&wanted().create_body(&Boot::Dev));
        let changed = KeycloakContainer {
            http_port: 8081,
            memory_bytes: 768 << 20,
            ..wanted()
        };
        let settings: Vec<_> = changed
            .differences(&observed)
            .into_iter()
            .map(|d| (d.setting, d.current, d.wanted))
            .collect();
        assert_eq!(
            settings,
            vec![
                (
                    "HTTP port",
                    "127.0.0.1:8080".into(),
                    "127.0.0.1:8081".into()
                ),
                ("memory limit", "1g".into(), "768m".into()),
            ]
        );
    }
}
