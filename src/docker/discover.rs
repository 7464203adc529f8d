//! Where the engine listens when `DOCKER_HOST` is not set.
//!
//! Linux keeps the system socket, as the docker CLI does there. On macOS and Windows the engine
//! rarely sits at the platform's default address: Docker Desktop's socket moved to
//! `~/.docker/run/docker.sock` (the `/var/run` link is optional), and Colima, OrbStack, Rancher
//! Desktop and Podman machines each have a socket of their own. The docker CLI finds them through
//! its current context, so kcdev reads the same context first, then looks for the sockets those
//! engines make (macOS), then falls back to the default.

// Linux never looks further than the default; the functions stay compiled there for their tests.
#![cfg_attr(not(target_os = "macos"), allow(dead_code))]

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The context the docker CLI uses when none is chosen: the platform default address.
const DEFAULT_CONTEXT: &str = "default";

/// What the docker CLI reads to choose a context, taken from the environment once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Environment {
    /// `$DOCKER_CONFIG`, else `~/.docker`.
    pub(crate) config_dir: Option<PathBuf>,
    /// `$DOCKER_CONTEXT`.
    pub(crate) context: Option<String>,
    /// The user's home directory.
    pub(crate) home: Option<PathBuf>,
    /// The per-user temporary directory (macOS: `$TMPDIR`, under `/var/folders`).
    pub(crate) temp: PathBuf,
}

impl Environment {
    pub(crate) fn current() -> Self {
        let home = etcetera::home_dir().ok();
        let config_dir = std::env::var_os("DOCKER_CONFIG")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|home| home.join(".docker")));
        Self {
            config_dir,
            context: std::env::var("DOCKER_CONTEXT")
                .ok()
                .filter(|name| !name.is_empty()),
            home,
            temp: std::env::temp_dir(),
        }
    }
}

/// The engine address of the docker CLI's current context, when one other than `default` is
/// chosen (`docker context use`, `DOCKER_CONTEXT`) and it names a Docker endpoint.
pub(crate) fn context_host(env: &Environment) -> Option<String> {
    let config_dir = env.config_dir.as_deref()?;
    let name = match &env.context {
        Some(name) => name.clone(),
        None => {
            let config = std::fs::read_to_string(config_dir.join("config.json")).ok()?;
            let config: serde_json::Value = serde_json::from_str(&config).ok()?;
            config.get("currentContext")?.as_str()?.to_owned()
        }
    };
    if name.is_empty() || name == DEFAULT_CONTEXT {
        return None;
    }
    // The CLI stores a context's metadata under the SHA-256 of its name.
    let digest: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let meta = config_dir
        .join("contexts")
        .join("meta")
        .join(digest)
        .join("meta.json");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(meta).ok()?).ok()?;
    let host = meta
        .get("Endpoints")?
        .get("docker")?
        .get("Host")?
        .as_str()?;
    (!host.is_empty()).then(|| host.to_owned())
}

/// The sockets the macOS engines listen on, in order of preference: the system socket (set up
/// by Docker Desktop, or by Podman's helper), then each engine's own.
pub(crate) fn macos_sockets(env: &Environment) -> Vec<PathBuf> {
    let mut sockets = vec![PathBuf::from("/var/run/docker.sock")];
    if let Some(home) = &env.home {
        let podman = home.join(".local/share/containers/podman/machine");
        sockets.extend([
            home.join(".docker/run/docker.sock"),
            home.join(".orbstack/run/docker.sock"),
            home.join(".colima/default/docker.sock"),
            home.join(".colima/docker.sock"),
            home.join(".rd/docker.sock"),
        ]);
        // Podman 5 forwards its API under the temporary directory; Podman 4 under its data.
        sockets.push(env.temp.join("podman/podman-machine-default-api.sock"));
        sockets.extend([
            podman.join("podman.sock"),
            podman.join("qemu/podman.sock"),
            podman.join("podman-machine-default/podman.sock"),
        ]);
    } else {
        sockets.push(env.temp.join("podman/podman-machine-default-api.sock"));
    }
    sockets
}

/// The first of `sockets` that exists, as a `unix://` address.
pub(crate) fn first_socket(sockets: &[PathBuf], exists: impl Fn(&Path) -> bool) -> Option<String> {
    sockets
        .iter()
        .find(|socket| exists(socket))
        .map(|socket| format!("unix://{}", socket.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_in(dir: &Path) -> Environment {
        Environment {
            config_dir: Some(dir.join(".docker")),
            context: None,
            home: Some(dir.to_owned()),
            temp: dir.join("T"),
        }
    }

    fn write_context(dir: &Path, name: &str, host: &str) {
        let digest: String = Sha256::digest(name.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let meta = dir.join(".docker/contexts/meta").join(digest);
        std::fs::create_dir_all(&meta).unwrap();
        let document = serde_json::json!({
            "Name": name,
            "Metadata": {},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}},
        });
        std::fs::write(meta.join("meta.json"), document.to_string()).unwrap();
    }

    #[test]
    fn the_current_context_names_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_in(dir.path());
        assert_eq!(context_host(&env), None, "no config, no context");
        write_context(
            dir.path(),
            "colima",
            "unix:///Users/me/.colima/default/docker.sock",
        );
        std::fs::write(
            dir.path().join(".docker/config.json"),
            r#"{"auths": {}, "currentContext": "colima"}"#,
        )
        .unwrap();
        assert_eq!(
            context_host(&env).as_deref(),
            Some("unix:///Users/me/.colima/default/docker.sock")
        );
        // DOCKER_CONTEXT wins over the file, and `default` means the platform's address.
        write_context(
            dir.path(),
            "desktop-linux",
            "unix:///Users/me/.docker/run/docker.sock",
        );
        let chosen = Environment {
            context: Some("desktop-linux".into()),
            ..env.clone()
        };
        assert_eq!(
            context_host(&chosen).as_deref(),
            Some("unix:///Users/me/.docker/run/docker.sock")
        );
        let default = Environment {
            context: Some(DEFAULT_CONTEXT.into()),
            ..env
        };
        assert_eq!(context_host(&default), None);
    }

    #[test]
    fn a_context_without_metadata_is_no_address() {
        let dir = tempfile::tempdir().unwrap();
        let env = Environment {
            context: Some("gone".into()),
            ..env_in(dir.path())
        };
        assert_eq!(context_host(&env), None);
    }

    #[test]
    fn the_system_socket_comes_first_then_each_engine_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_in(dir.path());
        let sockets = macos_sockets(&env);
        assert_eq!(sockets[0], Path::new("/var/run/docker.sock"));
        assert_eq!(sockets[1], dir.path().join(".docker/run/docker.sock"));
        let podman = dir.path().join("T/podman/podman-machine-default-api.sock");
        assert!(sockets.contains(&podman));
        assert_eq!(
            first_socket(&sockets, |path| path == podman),
            Some(format!("unix://{}", podman.display()))
        );
        assert_eq!(first_socket(&sockets, |_| false), None);
    }
}
