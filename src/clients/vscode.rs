//! VS Code (Copilot agent mode) reads `.vscode/mcp.json`, whose top-level key is `servers`; like
//! its other settings files it takes comments, which `--write` keeps.

use serde_json::json;

use super::{ClientConfig, ConfigLocation, ConnectionValues, login_step, servers_snippet};
use crate::clients::{Client, Registration};

/// Redirects on `127.0.0.1`, `vscode.dev`, `insiders.vscode.dev`; `client_uri`
/// `https://code.visualstudio.com`.
pub(super) const REGISTRATION_HOSTS: &[&str] = &[
    "127.0.0.1",
    "vscode.dev",
    "insiders.vscode.dev",
    "code.visualstudio.com",
];

pub(super) fn config(values: &ConnectionValues) -> ClientConfig {
    let (snippet, entry_path) = servers_snippet(
        "servers",
        &values.name,
        json!({"type": "http", "url": values.server_url}),
    );
    ClientConfig {
        client: Client::Vscode,
        registration: Registration::Dynamic,
        format: super::ConfigFormat::JsonWithComments,
        snippet,
        entry_path,
        locations: vec![ConfigLocation {
            scope: "workspace",
            kind: Some(super::ConfigScope::Project),
            path: ".vscode/mcp.json".into(),
        }],
        commands: vec![],
        steps: vec![
            "Add the entry under \"servers\" in .vscode/mcp.json (or --write), then choose Start above it.".to_owned(),
            "Allow the authentication request; VS Code registers itself with the realm.".to_owned(),
            login_step(values),
        ],
    }
}
