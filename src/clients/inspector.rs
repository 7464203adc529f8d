//! MCP Inspector v2: a web UI that does discovery, registration and the token exchange through
//! its own backend, and a CLI for scripts.

use serde_json::json;

use super::{ClientConfig, ConfigLocation, ConnectionValues, login_step, servers_snippet};
use crate::clients::Client;

/// The Inspector, pinned (needs Node 22.19 or later).
pub const INSPECTOR: &str = "@modelcontextprotocol/inspector@2.12.0";

/// Callbacks `http://localhost:6274/oauth/callback` (web) and
/// `http://127.0.0.1:6276/oauth/callback` (CLI); `client_uri` on github.com.
pub(super) const REGISTRATION_HOSTS: &[&str] = &["localhost", "127.0.0.1", "github.com"];

pub(super) fn config(values: &ConnectionValues) -> ClientConfig {
    let (snippet, entry_path) = servers_snippet(
        "mcpServers",
        &values.name,
        json!({"type": "http", "url": values.server_url}),
    );
    let cli = format!(
        "npx -y {INSPECTOR} --cli --transport http --server-url {}",
        values.server_url
    );
    ClientConfig {
        client: Client::Inspector,
        snippet,
        entry_path,
        locations: vec![ConfigLocation {
            scope: "Inspector's server catalog (--config / --catalog)",
            path: values.home.join(".mcp-inspector/mcp.json"),
        }],
        commands: vec![
            (
                format!("npx -y {INSPECTOR}"),
                "start the web UI at http://localhost:6274 (Node 22.19+)".to_owned(),
            ),
            (
                format!(
                    "{cli} --method tools/list --header \"Authorization: Bearer $(kcdev token)\""
                ),
                "script it with a token from kcdev".to_owned(),
            ),
            (
                format!("MCP_AUTO_OPEN_ENABLED=true {cli} --method tools/list"),
                "script it with the Inspector's own OAuth login".to_owned(),
            ),
        ],
        steps: vec![
            format!(
                "In the web UI: transport \"Streamable HTTP\", URL {}, Connect.",
                values.server_url
            ),
            format!(
                "It finds the realm through the server's metadata, registers itself and asks for scope {} by itself (leave the scope field empty).",
                values.scope
            ),
            login_step(values),
            "After `kcdev down --volumes`, restart the Inspector so it registers again.".to_owned(),
        ],
    }
}
