//! MCP Inspector v2: a web UI that does discovery, registration and the token exchange through
//! its own backend, and a CLI for scripts.

use serde_json::json;

use super::{
    ClientConfig, ConfigLocation, ConnectionValues, PreRegisteredClient, Registration, login_step,
    servers_snippet,
};
use crate::clients::Client;

/// The Inspector, pinned (needs Node 22.19 or later).
pub const INSPECTOR: &str = "@modelcontextprotocol/inspector@2.12.0";

/// Callbacks `http://localhost:6274/oauth/callback` (web) and
/// `http://127.0.0.1:6276/oauth/callback` (CLI); `client_uri` on github.com.
pub(super) const REGISTRATION_HOSTS: &[&str] = &["localhost", "127.0.0.1", "github.com"];

/// The CLI's callback is 127.0.0.1:6276, the web UI's localhost:6274 (either host).
pub(super) const PRE_REGISTERED: PreRegisteredClient = PreRegisteredClient {
    client_id: "kcdev-inspector",
    callback_port: 6276,
    redirect_uris: &[
        "http://localhost:6274/oauth/callback",
        "http://127.0.0.1:6274/oauth/callback",
        "http://127.0.0.1:6276/oauth/callback",
    ],
};

pub(super) fn config(values: &ConnectionValues, pre: Option<PreRegisteredClient>) -> ClientConfig {
    let mut entry = json!({"type": "http", "url": values.server_url});
    let cli = format!(
        "npx -y {INSPECTOR} --cli --transport http --server-url {}",
        values.server_url
    );
    let mut login_cli = cli.clone();
    let catalog = values.home.join(".mcp-inspector/mcp.json");
    let web = match pre {
        Some(pre) => {
            entry["oauth"] = json!({"clientId": pre.client_id});
            login_cli.push_str(&format!(
                " --client-id {} --callback-url http://127.0.0.1:{}/oauth/callback",
                pre.client_id, pre.callback_port
            ));
            (
                format!(
                    "npx -y {INSPECTOR} --catalog {} --server {}",
                    catalog.display(),
                    values.name
                ),
                "start the web UI at http://localhost:6274 with this entry (Node 22.19+)"
                    .to_owned(),
            )
        }
        None => (
            format!("npx -y {INSPECTOR}"),
            "start the web UI at http://localhost:6274 (Node 22.19+)".to_owned(),
        ),
    };
    let (snippet, entry_path) = servers_snippet("mcpServers", &values.name, entry);
    let finds_the_realm = match pre {
        Some(pre) => format!(
            "It finds the realm through the server's metadata and logs in as client {} with scope {} (leave the scope field empty).",
            pre.client_id, values.scope
        ),
        None => format!(
            "It finds the realm through the server's metadata, registers itself and asks for scope {} by itself (leave the scope field empty).",
            values.scope
        ),
    };
    let mut steps = vec![
        format!(
            "In the web UI: transport \"Streamable HTTP\", URL {}, Connect.",
            values.server_url
        ),
        finds_the_realm,
        login_step(values),
    ];
    if pre.is_none() {
        steps.push(
            "After `kcdev down --volumes`, restart the Inspector so it registers again.".to_owned(),
        );
    }
    ClientConfig {
        client: Client::Inspector,
        registration: Registration::of(pre),
        format: super::ConfigFormat::Json,
        snippet,
        entry_path,
        locations: vec![ConfigLocation {
            scope: "Inspector's server catalog (--config / --catalog)",
            kind: None,
            path: catalog,
        }],
        commands: vec![
            web,
            (
                format!(
                    "{cli} --method tools/list --header \"Authorization: Bearer $(kcdev token)\""
                ),
                "script it with a token from kcdev".to_owned(),
            ),
            (
                format!("MCP_AUTO_OPEN_ENABLED=true {login_cli} --method tools/list"),
                "script it with the Inspector's own OAuth login".to_owned(),
            ),
        ],
        steps,
    }
}
