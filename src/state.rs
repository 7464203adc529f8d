//! Per-instance state: what `up` decided (ports, image, realm settings) and the generated bootstrap
//! admin password, so later commands reuse them. One JSON file per instance in the XDG state
//! directory, readable only by its owner (it holds a password), replaced atomically.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use etcetera::BaseStrategy;
use serde::{Deserialize, Serialize};

use crate::ops::SettingOrigins;
use crate::realm::{CimdOptions, Declared, RegisteredClientScopes};

use crate::docker::BootMode;
use crate::instance::Instance;

const SCHEMA_VERSION: u32 = 1;

/// Everything kcdev remembers about one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceState {
    /// Format version of this file.
    pub schema: u32,
    /// The instance this state belongs to.
    pub instance: Instance,
    #[serde(flatten)]
    pub keycloak: KeycloakSettings,
    /// Realm settings `up` last applied.
    pub realm: RealmSettings,
    /// What `up` last knew of the test users' passwords (see `realm::PasswordMarks`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub password_marks: BTreeMap<String, String>,
    /// Where each setting of the last `up` came from (flag, kcdev.toml, ...), for `status`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub origins: SettingOrigins,
}

/// Where the instance's Keycloak lives. Written flat into the file (`admin` and `container`, or
/// `server`), as states from before servers kcdev does not run were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeycloakSettings {
    /// A container kcdev runs, with the bootstrap admin it created.
    Container {
        admin: AdminCredentials,
        container: ContainerSettings,
    },
    /// A Keycloak kcdev was pointed at (`up --keycloak-url`). Its admin credentials come from
    /// the environment on every run and are never written here.
    Server { server: ServerSettings },
}

/// A Keycloak that kcdev provisions but does not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSettings {
    /// Keycloak's base URL, as clients and kcdev reach it (issuers are built from it).
    pub url: String,
    /// A PEM file of certificate authorities to trust beyond the system's (`--ca-cert`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
}

/// Master-realm administrator credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminCredentials {
    /// User name of the bootstrap admin.
    pub username: String,
    /// Generated password of the bootstrap admin.
    pub password: String,
}

/// Container settings chosen by `up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSettings {
    /// Image reference the container runs.
    pub image: String,
    /// Host port (on 127.0.0.1) of Keycloak's HTTP listener.
    pub http_port: u16,
    /// Host port (on 127.0.0.1) of Keycloak's management interface.
    pub management_port: u16,
    /// Container memory limit in bytes.
    pub memory_bytes: u64,
    /// Missing in states written before optimized boots: those instances boot in dev mode.
    #[serde(default)]
    pub boot: BootMode,
}

/// Realm settings chosen by `up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealmSettings {
    /// Realm name.
    pub name: String,
    /// Base URL of the MCP server the realm issues tokens for.
    pub server_url: String,
    /// Hosts trusted for anonymous client registration beyond the built-in list.
    pub extra_trusted_hosts: Vec<String>,
    /// Password of the test users.
    pub user_password: String,
    /// Whether the realm gets the test users (always, on a container kcdev runs).
    #[serde(default = "yes")]
    pub test_users: bool,
    /// Whether the realm takes anonymous dynamic client registration from loopback and the MCP
    /// clients' hosts (always, on a container kcdev runs).
    #[serde(default = "yes")]
    pub anonymous_registration: bool,
    /// Client ID Metadata Documents, when `up --cimd` turned them on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cimd: Option<CimdOptions>,
    /// Further MCP servers beyond `server_url` (`up --server-url` given more than once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_server_urls: Vec<String>,
    /// RFC 8707 resource indicators (`up --resource-indicators`): Keycloak's experimental
    /// feature, which narrows a token's `aud` to the resource a client asked for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resource_indicators: bool,
    /// What the project file declared (scopes, roles, groups, users, claims), as `up` applied it.
    #[serde(default, skip_serializing_if = "Declared::is_empty")]
    pub declared: Declared,
    /// Whether the server has kcdev's registration provider (a container kcdev runs always does).
    #[serde(default)]
    pub registered_client_scopes: RegisteredClientScopes,
    /// Whether kcdev makes the realm record what clients do, for `kcdev events` (always, on a
    /// container kcdev runs; on another server after `up --events`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub events: bool,
}

fn yes() -> bool {
    true
}

impl InstanceState {
    /// A new state with the current schema version.
    pub fn new(instance: &Instance, keycloak: KeycloakSettings, realm: RealmSettings) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            instance: instance.clone(),
            keycloak,
            realm,
            password_marks: BTreeMap::new(),
            origins: SettingOrigins::new(),
        }
    }
}

/// Failures reading or writing state files.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// No home directory to put the state directory in.
    #[error("cannot locate a state directory: {0}")]
    NoStateDir(#[from] etcetera::HomeDirError),
    /// The file system refused an operation.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file exists but is not kcdev state.
    #[error("state file {path} is not valid kcdev state")]
    Corrupt {
        /// The unreadable file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The file was written by a newer kcdev.
    #[error(
        "state file {path} has format version {found}; this kcdev reads version {SCHEMA_VERSION}"
    )]
    UnknownSchema {
        /// The file.
        path: PathBuf,
        /// The version it declares.
        found: u32,
    },
}

/// Where state files live.
#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
}

impl StateStore {
    /// The XDG state directory (`$XDG_STATE_HOME/kcdev`, by default `~/.local/state/kcdev`).
    pub fn from_environment() -> Result<Self, StateError> {
        let strategy = etcetera::choose_base_strategy()?;
        let base = strategy.state_dir().unwrap_or_else(|| strategy.data_dir());
        Ok(Self::at(base.join("kcdev")))
    }

    /// A store rooted at an explicit directory.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Path of an instance's state file.
    pub fn path(&self, instance: &Instance) -> PathBuf {
        self.dir.join(instance.state_file_name())
    }

    /// The instance's lock file (see [`crate::lock`]).
    pub fn lock_path(&self, instance: &Instance) -> PathBuf {
        self.dir.join(format!("{instance}.lock"))
    }

    /// The instance's state, or `None` if it has none yet.
    pub fn load(&self, instance: &Instance) -> Result<Option<InstanceState>, StateError> {
        let path = self.path(instance);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io_error("read", &path, source)),
        };
        let state: InstanceState =
            serde_json::from_str(&text).map_err(|source| StateError::Corrupt {
                path: path.clone(),
                source,
            })?;
        if state.schema != SCHEMA_VERSION {
            return Err(StateError::UnknownSchema {
                path,
                found: state.schema,
            });
        }
        Ok(Some(state))
    }

    /// Writes the state: a temporary file created with mode 0600, then renamed over the old one,
    /// so a crash never leaves a half-written file and the password is never world-readable.
    pub fn save(&self, state: &InstanceState) -> Result<PathBuf, StateError> {
        let path = self.path(&state.instance);
        fs::create_dir_all(&self.dir).map_err(|source| io_error("create", &self.dir, source))?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(|source| io_error("create a file in", &self.dir, source))?;
        let json = serde_json::to_vec_pretty(state).map_err(|source| StateError::Corrupt {
            path: path.clone(),
            source,
        })?;
        file.write_all(&json)
            .and_then(|()| file.as_file().sync_all())
            .map_err(|source| io_error("write", file.path(), source))?;
        file.persist(&path)
            .map_err(|err| io_error("replace", &path, err.error))?;
        Ok(path)
    }

    /// Removes the instance's state file; a missing file is fine.
    pub fn delete(&self, instance: &Instance) -> Result<bool, StateError> {
        let path = self.path(instance);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(io_error("remove", &path, source)),
        }
    }
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> StateError {
    StateError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(instance: &Instance) -> InstanceState {
        InstanceState::new(
            instance,
            KeycloakSettings::Container {
                admin: AdminCredentials {
                    username: "admin".into(),
                    password: "s3cret".into(),
                },
                container: ContainerSettings {
                    image: "kcdev-test/keycloak:26.7.5".into(),
                    http_port: 8080,
                    management_port: 9000,
                    memory_bytes: 1 << 30,
                    boot: BootMode::Optimized,
                },
            },
            RealmSettings {
                name: "fastmcp".into(),
                server_url: "http://localhost:8000".into(),
                extra_trusted_hosts: vec![],
                user_password: "password123".into(),
                test_users: true,
                anonymous_registration: true,
                cimd: None,
                additional_server_urls: vec![],
                resource_indicators: false,
                declared: Default::default(),
                registered_client_scopes: Default::default(),
                events: true,
            },
        )
    }

    #[test]
    fn round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::at(dir.path().join("kcdev"));
        let instance: Instance = "t1".parse().unwrap();
        assert_eq!(store.load(&instance).unwrap(), None);
        let path = store.save(&sample(&instance)).unwrap();
        assert_eq!(store.load(&instance).unwrap(), Some(sample(&instance)));
        assert!(path.is_file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(store.delete(&instance).unwrap());
        assert!(!store.delete(&instance).unwrap());
    }

    #[test]
    fn reads_states_from_before_servers_and_writes_servers_without_secrets() {
        let instance: Instance = "t3".parse().unwrap();
        let old = r#"{"schema":1,"instance":"t3","admin":{"username":"admin","password":"p"},
            "container":{"image":"i","http_port":8080,"management_port":9000,"memory_bytes":1},
            "realm":{"name":"fastmcp","server_url":"http://localhost:8000",
            "extra_trusted_hosts":[],"user_password":"password123"}}"#;
        let state: InstanceState = serde_json::from_str(old).unwrap();
        assert!(matches!(state.keycloak, KeycloakSettings::Container { .. }));
        assert!(state.realm.test_users && state.realm.anonymous_registration);

        let mut server = sample(&instance);
        server.keycloak = KeycloakSettings::Server {
            server: ServerSettings {
                url: "https://sso.example.com".into(),
                ca_cert: None,
            },
        };
        let json = serde_json::to_value(&server).unwrap();
        assert_eq!(json["server"]["url"], "https://sso.example.com");
        assert!(json.get("admin").is_none() && json.get("container").is_none());
        let back: InstanceState = serde_json::from_value(json).unwrap();
        assert_eq!(back, server);
    }

    #[test]
    fn refuses_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::at(dir.path());
        let instance: Instance = "t2".parse().unwrap();
        fs::write(store.path(&instance), "not json").unwrap();
        assert!(matches!(
            store.load(&instance),
            Err(StateError::Corrupt { .. })
        ));
    }
}
