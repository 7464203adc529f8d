//! Claude Desktop runs local (stdio) servers only; remote connectors are brokered from
//! Anthropic's cloud and cannot reach localhost. The `mcp-remote` bridge connects it to the HTTP
//! server and does the OAuth login itself.

use serde_json::json;

use super::{
    ClientConfig, ConfigLocation, ConnectionValues, PreRegisteredClient, Registration, login_step,
    servers_snippet,
};
use crate::clients::Client;

/// mcp-remote, pinned: `npx` with a range would run whatever is newest that day.
pub const MCP_REMOTE: &str = "mcp-remote@0.15.1";
/// mcp-remote's OAuth callback port. Fixed, so each restart reuses its registration.
pub const CALLBACK_PORT: u16 = 3334;

/// Callback `http://localhost:3334/oauth/callback` (`127.0.0.1` on Windows); `client_uri`
/// `https://github.com/modelcontextprotocol/mcp-cli`.
pub(super) const REGISTRATION_HOSTS: &[&str] = &["localhost", "127.0.0.1", "github.com"];

pub(super) const PRE_REGISTERED: PreRegisteredClient = PreRegisteredClient {
    client_id: "kcdev-mcp-remote",
    callback_port: CALLBACK_PORT,
    redirect_uris: &[
        "http://localhost:3334/oauth/callback",
        "http://127.0.0.1:3334/oauth/callback",
    ],
};

/// The JSON `--static-oauth-client-info` takes: a public client, so no secret.
fn static_client_info(pre: &PreRegisteredClient) -> String {
    json!({"client_id": pre.client_id}).to_string()
}

pub(super) fn config(values: &ConnectionValues, pre: Option<PreRegisteredClient>) -> ClientConfig {
    let mut args = vec![
        "-y".to_owned(),
        MCP_REMOTE.to_owned(),
        values.server_url.clone(),
        CALLBACK_PORT.to_string(),
        "--transport".to_owned(),
        "http-only".to_owned(),
        "--auth-timeout".to_owned(),
        "120".to_owned(),
    ];
    let mut try_it = format!(
        "npx -y -p {MCP_REMOTE} mcp-remote-client {} {CALLBACK_PORT}",
        values.server_url
    );
    if let Some(pre) = &pre {
        let info = static_client_info(pre);
        try_it.push_str(&format!(" --static-oauth-client-info '{info}'"));
        args.extend(["--static-oauth-client-info".to_owned(), info]);
    }
    let entry = json!({"command": "npx", "args": args});
    let mut steps = vec![
        "Add the entry under \"mcpServers\" in claude_desktop_config.json (Settings > Developer > Edit Config), or use --write.".to_owned(),
        "Quit Claude Desktop completely and start it again.".to_owned(),
        login_step(values),
    ];
    if pre.is_none() {
        steps.push("After `kcdev down --volumes`, clear mcp-remote's cached registration: rm -rf ~/.mcp-auth".to_owned());
    }
    let (snippet, entry_path) = servers_snippet("mcpServers", &values.name, entry);
    let home = &values.home;
    let mut locations = vec![
        ConfigLocation {
            scope: "macOS",
            kind: None,
            path: home.join("Library/Application Support/Claude/claude_desktop_config.json"),
        },
        ConfigLocation {
            scope: "Windows",
            kind: None,
            path: home.join("AppData/Roaming/Claude/claude_desktop_config.json"),
        },
        ConfigLocation {
            scope: "Linux (unofficial builds)",
            kind: None,
            path: home.join(".config/Claude/claude_desktop_config.json"),
        },
    ];
    // The first location is where `--write` writes: this machine's.
    let current = if cfg!(target_os = "macos") {
        0
    } else if cfg!(windows) {
        1
    } else {
        2
    };
    locations.swap(0, current);
    ClientConfig {
        client: Client::ClaudeDesktop,
        registration: Registration::of(pre),
        format: super::ConfigFormat::Json,
        snippet,
        entry_path,
        locations,
        commands: vec![(
            try_it,
            "try the login and list the tools without Claude (Node 18+)".to_owned(),
        )],
        steps,
    }
}
