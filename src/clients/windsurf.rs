//! Windsurf reads `mcpServers` from `~/.codeium/windsurf/mcp_config.json`; a remote server's URL
//! goes in `serverUrl` (not `url`). It registers itself (no client id setting); its redirect URIs
//! are not known here. From Windsurf's docs; not run against a realm here.

use serde_json::json;

use super::{
    ClientConfig, ConfigFormat, ConfigLocation, ConnectionValues, login_step, servers_snippet,
};
use crate::clients::{Client, Registration};

/// Not known: Windsurf's registration request has not been observed.
pub(super) const REGISTRATION_HOSTS: &[&str] = &[];

pub(super) fn config(values: &ConnectionValues) -> ClientConfig {
    let (snippet, entry_path) = servers_snippet(
        "mcpServers",
        &values.name,
        json!({"serverUrl": values.server_url}),
    );
    ClientConfig {
        client: Client::Windsurf,
        registration: Registration::Dynamic,
        format: ConfigFormat::Json,
        snippet,
        entry_path,
        locations: vec![ConfigLocation {
            scope: "user",
            kind: Some(super::ConfigScope::User),
            path: values.home.join(".codeium/windsurf/mcp_config.json"),
        }],
        commands: vec![],
        steps: vec![
            "Write the entry with --write (or Cascade > MCP servers > View raw config), then refresh the MCP servers.".to_owned(),
            format!("Choose Authenticate next to {} when Windsurf asks.", values.name),
            login_step(values),
        ],
    }
}
