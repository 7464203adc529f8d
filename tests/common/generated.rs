//! Generated servers (`kcdev new server`) run with `kcdev run`, as a user runs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keycloak::types::ComponentRepresentation;

use super::{Kcdev, wait_until_answers};

/// A key the tests add to the realm's key set (never used by Keycloak to sign), so they can
/// mint tokens with valid signatures and wrong claims.
pub const TEST_KEY_PEM: &[u8] =
    include_bytes!("../../templates/server/rust/tests/support/test-signing-key.pem");

/// Adds `TEST_KEY_PEM` to `realm`'s keys, at the lowest priority; returns its key id.
pub async fn add_test_signing_key(kcdev: &Kcdev, realm: &str) -> String {
    let admin = kcdev.admin().await;
    let realm_id = admin.api().realm_get(realm).await.unwrap().id;
    let config = [
        ("priority", "1"),
        ("enabled", "true"),
        ("active", "true"),
        ("algorithm", "RS256"),
        ("privateKey", std::str::from_utf8(TEST_KEY_PEM).unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), vec![v.to_owned()]))
    .collect();
    let component = ComponentRepresentation {
        name: Some("kcdev-tests-key".into()),
        provider_id: Some("rsa".into()),
        provider_type: Some("org.keycloak.keys.KeyProvider".into()),
        parent_id: realm_id,
        config: Some(config),
        ..Default::default()
    };
    let created = admin
        .api()
        .realm_components_post(realm, component)
        .await
        .unwrap();
    let component_id = created.to_id().unwrap().to_owned();
    let keys = admin.api().realm_keys_get(realm).await.unwrap();
    keys.keys
        .unwrap()
        .into_iter()
        .find(|key| key.provider_id.as_deref() == Some(component_id.as_str()))
        .and_then(|key| key.kid)
        .expect("the test key is in the realm's key set")
}

/// The first build of a generated project compiles all its dependencies.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(1200);

/// Where generated projects are built: kept between runs (and shared by the test binaries, which
/// cargo runs one after another) so dependencies compile once.
pub fn generated_target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("generated-server-target")
}

/// SIGTERM to `kcdev run`, which passes it on; the server shuts down cleanly.
pub fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
}

/// `kcdev new server` (Rust) into `dir`.
pub fn generate(kcdev: &Kcdev, dir: &Path) {
    generate_in(kcdev, dir, "e2e-server", "rust");
}

/// `kcdev new server name --lang language` into `dir`.
pub fn generate_in(kcdev: &Kcdev, dir: &Path, name: &str, language: &str) {
    let _ = std::fs::remove_dir_all(dir);
    kcdev
        .run(&[
            "new",
            "server",
            name,
            "--lang",
            language,
            "--dir",
            dir.to_str().unwrap(),
        ])
        .ok();
}

/// `kcdev run dir [--server-url server_url]`, once `<base>/healthz` answers; stopped when dropped.
pub struct RunningServer(Option<Child>);

impl RunningServer {
    pub async fn start(kcdev: &Kcdev, dir: &Path, server_url: Option<&str>, base: &str) -> Self {
        Self::start_with(kcdev, dir, server_url, base, &[]).await
    }

    /// The same with what `kcdev run` shows on stderr (kcdev's lines and the server's log)
    /// written to `log`.
    pub async fn start_logged(
        kcdev: &Kcdev,
        dir: &Path,
        server_url: Option<&str>,
        base: &str,
        log: &Path,
    ) -> Self {
        let file = std::fs::File::create(log).expect("server log file");
        Self::spawn(kcdev, dir, server_url, base, &[], Stdio::from(file)).await
    }

    /// The same with extra environment variables for the server (`MCP_BIND`, say).
    pub async fn start_with(
        kcdev: &Kcdev,
        dir: &Path,
        server_url: Option<&str>,
        base: &str,
        env: &[(&str, &str)],
    ) -> Self {
        Self::spawn(kcdev, dir, server_url, base, env, Stdio::inherit()).await
    }

    async fn spawn(
        kcdev: &Kcdev,
        dir: &Path,
        server_url: Option<&str>,
        base: &str,
        env: &[(&str, &str)],
        stderr: Stdio,
    ) -> Self {
        let mut args = vec!["run", dir.to_str().unwrap()];
        if let Some(url) = server_url {
            args.extend(["--server-url", url]);
        }
        let mut command = kcdev.command(&args);
        command.env("CARGO_TARGET_DIR", generated_target_dir());
        command.envs(env.iter().copied());
        let mut server = Self(Some(
            command
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("kcdev run"),
        ));
        let health = format!("{base}/healthz");
        wait_until_answers(&health, BUILD_TIMEOUT, || {
            server
                .0
                .as_mut()
                .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
        })
        .await;
        server
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            stop(child);
        }
    }
}
