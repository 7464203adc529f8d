//! Claude Code speaks Streamable HTTP and OAuth natively. Given a client id and a callback port it
//! skips registration; without them it registers itself with no `scope`, at a random port.
//!
//! The entry goes in the user's `~/.claude.json` by default: a project `.mcp.json` server stays
//! off ("awaiting approval") until the user approves it in an interactive `claude` session, which
//! nothing else tells them; a server on localhost is personal anyway. `--scope project` gives the
//! shared form, with the approval step spelled out.

use serde_json::json;

use super::{
    ClientConfig, ConfigFormat, ConfigLocation, ConfigScope, ConnectionValues, PreRegisteredClient,
    Registration, login_step, servers_snippet,
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
    let mut client = String::new();
    if let Some(pre) = pre {
        entry["oauth"] = json!({"clientId": pre.client_id, "callbackPort": pre.callback_port});
        client = format!(
            " --client-id {} --callback-port {}",
            pre.client_id, pre.callback_port
        );
    }
    let add = |scope: &str| {
        format!(
            "claude mcp add --transport http --scope {scope}{client} {} {}",
            values.name, values.server_url
        )
    };
    let (snippet, entry_path) = servers_snippet("mcpServers", &values.name, entry);
    ClientConfig {
        client: Client::ClaudeCode,
        registration: Registration::of(pre),
        format: ConfigFormat::Json,
        snippet,
        entry_path,
        locations: vec![
            ConfigLocation {
                scope: "user: every project, no approval step",
                kind: Some(ConfigScope::User),
                path: values.home.join(".claude.json"),
            },
            ConfigLocation {
                scope: "project: shared, checked in, approved once in `claude`",
                kind: Some(ConfigScope::Project),
                path: ".mcp.json".into(),
            },
        ],
        commands: vec![
            (
                add("user"),
                "add the server for you, in every project (~/.claude.json); usable at once".to_owned(),
            ),
            (
                add("project"),
                "or share it in this project's .mcp.json (--scope project); each user approves it once".to_owned(),
            ),
            (
                format!("claude mcp login {}", values.name),
                "log in from a terminal (or /mcp in claude, pick the server, Authenticate)".to_owned(),
            ),
        ],
        steps: vec![
            "Add it with one of the commands above, or --write (user scope; --scope project writes .mcp.json).".to_owned(),
            "A project .mcp.json server stays off (\"awaiting approval\") until you start `claude` in this directory and approve it; `claude mcp reset-project-choices` asks again. The user-scope entry needs no approval.".to_owned(),
            format!(
                "Run `claude mcp login {}` (or /mcp, pick {}, Authenticate).",
                values.name, values.name
            ),
            login_step(values),
        ],
    }
}
