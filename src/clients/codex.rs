//! Codex CLI reads `[mcp_servers.NAME]` tables from `$CODEX_HOME/config.toml` (`~/.codex`).
//! Given a client id it skips registration; its redirect URI is `callback_url` and its listener
//! `callback_port`, and a pre-registered client needs both: with the URL alone the listener takes
//! a random port, with the port alone the redirect is `http://127.0.0.1:PORT/callback`.
//! Without a client id it registers at every login (`http://127.0.0.1:<random>/callback`).

use serde_json::json;

use super::{
    ClientConfig, ConfigFormat, ConfigLocation, ConnectionValues, PreRegisteredClient,
    Registration, login_step, servers_snippet,
};
use crate::clients::Client;

/// Redirects on `localhost` (pre-registered, as configured) and `127.0.0.1` (registration).
pub(super) const REGISTRATION_HOSTS: &[&str] = &["localhost", "127.0.0.1"];

pub(super) const PRE_REGISTERED: PreRegisteredClient = PreRegisteredClient {
    client_id: "kcdev-codex",
    callback_port: 33422,
    redirect_uris: &["http://localhost:33422/callback"],
};

pub(super) fn config(values: &ConnectionValues, pre: Option<PreRegisteredClient>) -> ClientConfig {
    let mut entry = json!({"url": values.server_url});
    let mut add = format!("codex mcp add {} --url {}", values.name, values.server_url);
    if let Some(pre) = pre {
        entry["oauth"] = json!({
            "client_id": pre.client_id,
            "callback_url": format!("http://localhost:{}/callback", pre.callback_port),
            "callback_port": pre.callback_port,
        });
        add.push_str(&format!(" --oauth-client-id {}", pre.client_id));
    }
    let (snippet, entry_path) = servers_snippet("mcp_servers", &values.name, entry);
    let mut steps = vec![];
    match pre {
        Some(_) => steps.push(
            "Write the entry with --write (or paste it into config.toml): `codex mcp add` saves neither callback setting, and Codex needs both.".to_owned(),
        ),
        None => steps.push(format!(
            "Write the entry with --write, or run the command above (`codex mcp add {} --url ...` logs in at once).",
            values.name
        )),
    }
    steps.push(format!(
        "Run `codex mcp login {}`; the browser opens Keycloak.",
        values.name
    ));
    steps.push(login_step(values));
    ClientConfig {
        client: Client::Codex,
        registration: Registration::of(pre),
        format: ConfigFormat::Toml,
        snippet,
        entry_path,
        locations: vec![ConfigLocation {
            scope: "user; $CODEX_HOME moves it",
            kind: Some(super::ConfigScope::User),
            path: values.dirs.codex_home(&values.home).join("config.toml"),
        }],
        commands: vec![
            (
                add,
                "add the server (saves the URL and client id, not the callback)".to_owned(),
            ),
            (
                format!("codex mcp login {}", values.name),
                "log in (again) through the browser".to_owned(),
            ),
        ],
        steps,
    }
}
