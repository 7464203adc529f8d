//! The FastMCP server of the seed page (`tests/interop/fastmcp_server.py`), run as its page shows.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::wait_until_answers;

/// The Python of the interop environment (`scripts/prepare-test-env.sh` makes it).
pub fn python() -> PathBuf {
    PathBuf::from(
        std::env::var("KCDEV_TEST_PYTHON")
            .expect("KCDEV_TEST_PYTHON is set by scripts/prepare-test-env.sh"),
    )
}

/// The server process, serving `<base>/mcp` against the realm at `issuer`; stopped on drop.
pub struct FastMcpServer(Child);

impl FastMcpServer {
    /// Starts it on `port` (the port of `base`) and waits until its metadata answers.
    pub async fn start(issuer: &str, base: &str, port: u16) -> Self {
        Self::start_with(issuer, base, port, &[]).await
    }

    /// The page's "Advanced Configuration": a `JWTVerifier` of its own with this audience and
    /// these required scopes, inside `KeycloakAuthProvider`.
    pub async fn start_advanced(
        issuer: &str,
        base: &str,
        port: u16,
        audience: &str,
        required_scopes: &[&str],
    ) -> Self {
        let scopes = required_scopes.join(",");
        let env = [
            ("FASTMCP_ADVANCED_AUDIENCE", audience),
            ("FASTMCP_ADVANCED_REQUIRED_SCOPES", scopes.as_str()),
        ];
        Self::start_with(issuer, base, port, &env).await
    }

    async fn start_with(issuer: &str, base: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let child = Command::new(python().with_file_name("fastmcp"))
            .args([
                "run",
                "fastmcp_server.py",
                "--transport",
                "http",
                "--port",
                &port.to_string(),
            ])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop"))
            .env("KEYCLOAK_REALM_URL", issuer)
            .env("FASTMCP_BASE_URL", base)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Self(child);
        let metadata = format!("{base}/.well-known/oauth-protected-resource/mcp");
        wait_until_answers(&metadata, Duration::from_secs(60), || {
            matches!(server.0.try_wait(), Ok(None))
        })
        .await;
        server
    }
}

impl Drop for FastMcpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
