//! Claude Code speaks Streamable HTTP and OAuth natively. Given a client id and a callback port it
//! skips registration; without them it registers itself with no `scope`, at a random port.

use serde_json::json;

use super::{
    ClientConfig, ConfigLocation, ConnectionValues, PreRegisteredClient, Registration, login_step,
    servers_snippet,
};
use crate::clients::Client;

/// Callback `http://localhost:<port>/callback`: host and path are fixed, only the port varies.
pub(super) const REGISTRATION_HOSTS: &[&str] = &["localhost"];

pub(super) const PRE_REGISTERED: PreRegisteredClient = PreRegisteredClient {
    client_id: "kcdev-claude-code",
    callback_port: 33420,
    redirect_uris: &["http://localhost:33420/callback"],
};

pub(super) fn config(values: &ConnectionValues, pre: Option<PreRegisteredClient>) -> ClientConfig {
    let mut entry = json!({"type": "http", "url": values.server_url});
    let mut add = "claude mcp add --transport http --scope project".to_owned();
    if let Some(pre) = pre {
        entry["oauth"] = json!({"clientId": pre.client_id, "callbackPort": pre.callback_port});
        add.push_str(&format!(
            " --client-id {} --callback-port {}",
            pre.client_id, pre.callback_port
        ));
    }
    let (snippet, entry_path) = servers_snippet("mcpServers", &values.name, entry);
    ClientConfig {
        client: Client::ClaudeCode,
        registration: Registration::of(pre),
        format: super::ConfigFormat::Json,
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
            format!("{add} {} {}", values.name, values.server_url),
            "add the server to this project's .mcp.json".to_owned(),
        )],
        steps: vec![
            "Add it with the command above (or --write .mcp.json), then start `claude` in this directory and approve the project server.".to_owned(),
            format!("Run /mcp, pick {}, choose Authenticate.", values.name),
            login_step(values),
        ],
    }
}
