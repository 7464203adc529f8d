//! mcp-remote (Claude Desktop's bridge, on the MCP TypeScript SDK's client), driven as Claude
//! Desktop runs it: its stderr watched for the login URL, the login done as the browser would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A child process whose stderr lines arrive as it prints them, so a test can wait for one.
pub struct Watched {
    pub child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watched {
    pub fn spawn(mut command: Command) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line from now on that `wanted` accepts, mapped.
    pub fn until<T>(&mut self, mut wanted: impl FnMut(&str) -> Option<T>) -> T {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(90))
                .unwrap_or_else(|_| panic!("stalled; printed so far:\n{}", self.log()));
            self.seen.push(line);
            if let Some(found) = wanted(self.seen.last().unwrap()) {
                return found;
            }
        }
    }

    pub fn log(&self) -> String {
        self.seen.join("\n")
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// mcp-remote prints the authorization URL; log in there as the test user, as the browser would,
/// and deliver the code to its callback. Returns the authorization URL.
pub async fn log_in_where_mcp_remote_says(bridge: &mut Watched, callback_port: u16) -> String {
    let authorize_url = bridge.until(|line| {
        line.find("http://localhost")
            .filter(|_| line.contains("/protocol/openid-connect/auth?"))
            .map(|start| line[start..].trim().to_owned())
    });
    let http = kcdev::oauth::http_client(&kcdev::trust::Trust::system()).unwrap();
    let callback = kcdev::oauth::login_at(
        &http,
        &authorize_url,
        &format!("http://localhost:{callback_port}/oauth/callback"),
        "testuser",
        "password123",
    )
    .await
    .unwrap();
    reqwest::get(callback.as_str()).await.unwrap();
    authorize_url
}

pub fn mcp_remote_client() -> PathBuf {
    std::env::var("KCDEV_TEST_MCP_REMOTE_CLIENT")
        .expect("KCDEV_TEST_MCP_REMOTE_CLIENT is set by scripts/prepare-test-env.sh")
        .into()
}

/// `mcp-remote-client` (mcp-remote's connect-and-list-tools check) against `resource`, with its
/// registration kept in `config_dir`: it registers, the test user logs in where it says, and it
/// lists the tools and exits. Returns what it printed.
pub async fn list_tools_through_mcp_remote(resource: &str, config_dir: &Path) -> String {
    list_tools_through_mcp_remote_on(resource, config_dir, super::free_port()).await
}

/// The same with its OAuth callback on `port`: a second run on the same port finds its stored
/// registration still fits, and uses it.
pub async fn list_tools_through_mcp_remote_on(
    resource: &str,
    config_dir: &Path,
    port: u16,
) -> String {
    let mut command = Command::new(mcp_remote_client());
    command
        .args([resource, &port.to_string(), "--auth-timeout", "90"])
        .env("MCP_REMOTE_CONFIG_DIR", config_dir)
        // mcp-remote quits when its stdin ends, as when Claude Desktop goes away.
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut bridge = Watched::spawn(command);
    log_in_where_mcp_remote_says(&mut bridge, port).await;
    bridge.until(|line| line.contains("Exiting OK").then_some(()));
    bridge.log()
}
