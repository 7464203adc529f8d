//! Cursor reads `mcpServers` from `.cursor/mcp.json` (project) or `~/.cursor/mcp.json`.

use serde_json::json;

use super::{ClientConfig, ConfigLocation, ConnectionValues, login_step, servers_snippet};
use crate::clients::{Client, Registration};

/// Redirects seen: `cursor://anysphere.cursor-mcp/oauth/callback`,
/// `https://www.cursor.com/agents/mcp/oauth/callback`, `http://localhost:8787/callback`.
pub(super) const REGISTRATION_HOSTS: &[&str] =
    &["anysphere.cursor-mcp", "www.cursor.com", "localhost"];

pub(super) fn config(values: &ConnectionValues) -> ClientConfig {
    let (snippet, entry_path) = servers_snippet(
        "mcpServers",
        &values.name,
        json!({"url": values.server_url}),
    );
    ClientConfig {
        client: Client::Cursor,
        registration: Registration::Dynamic,
        format: super::ConfigFormat::Json,
        snippet,
        entry_path,
        locations: vec![
            ConfigLocation {
                scope: "project",
                kind: Some(super::ConfigScope::Project),
                path: ".cursor/mcp.json".into(),
            },
            ConfigLocation {
                scope: "user",
                kind: Some(super::ConfigScope::User),
                path: values.home.join(".cursor/mcp.json"),
            },
        ],
        commands: vec![],
        steps: vec![
            "Add the entry under \"mcpServers\" in .cursor/mcp.json (or --write).".to_owned(),
            format!(
                "In Settings > MCP, enable {} and choose Login.",
                values.name
            ),
            login_step(values),
        ],
    }
}
