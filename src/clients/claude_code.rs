//! Claude Code speaks Streamable HTTP and OAuth natively, registering itself with no `scope`.

use serde_json::json;

use super::{ClientConfig, ConfigLocation, ConnectionValues, login_step, servers_snippet};
use crate::clients::Client;

/// Callback `http://localhost:<random port>/callback`.
pub(super) const REGISTRATION_HOSTS: &[&str] = &["localhost"];

pub(super) fn config(values: &ConnectionValues) -> ClientConfig {
    let (snippet, entry_path) = servers_snippet(
        "mcpServers",
        &values.name,
        json!({"type": "http", "url": values.server_url}),
    );
    ClientConfig {
        client: Client::ClaudeCode,
        snippet,
        entry_path,
        locations: vec![
            ConfigLocation {
                scope: "project (shared, checked in)",
                path: ".mcp.json".into(),
            },
            ConfigLocation {
                scope: "user",
                path: values.home.join(".claude.json"),
            },
        ],
        commands: vec![(
            format!("claude mcp add --transport http --scope project {} {}", values.name, values.server_url),
            "add the server to this project's .mcp.json".to_owned(),
        )],
        steps: vec![
            "Add it with the command above (or --write .mcp.json), then start `claude` in this directory and approve the project server.".to_owned(),
            format!("Run /mcp, pick {}, choose Authenticate.", values.name),
            login_step(values),
        ],
    }
}
