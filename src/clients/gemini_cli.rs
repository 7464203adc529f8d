//! Gemini CLI reads `mcpServers` from `$GEMINI_CLI_HOME/.gemini/settings.json` (`~`), JSON with
//! comments. Its OAuth listener answers only the path `/oauth/callback`, on the port of
//! `oauth.redirectUri` when one is set. Registering by itself, it asks for every scope the
//! realm advertises unless `oauth.scopes` names them, so kcdev always names them.

use serde_json::json;

use super::{
    ClientConfig, ConfigFormat, ConfigLocation, ConnectionValues, PreRegisteredClient,
    Registration, login_step, servers_snippet,
};
use crate::clients::Client;

/// Redirect `http://localhost:<port>/oauth/callback`.
pub(super) const REGISTRATION_HOSTS: &[&str] = &["localhost"];

pub(super) const PRE_REGISTERED: PreRegisteredClient = PreRegisteredClient {
    client_id: "kcdev-gemini-cli",
    callback_port: 33423,
    redirect_uris: &["http://localhost:33423/oauth/callback"],
};

pub(super) fn config(values: &ConnectionValues, pre: Option<PreRegisteredClient>) -> ClientConfig {
    let scopes: Vec<&str> = std::iter::once("openid")
        .chain(values.scope.split_whitespace())
        .collect();
    let oauth = match pre {
        Some(pre) => json!({
            "enabled": true,
            "clientId": pre.client_id,
            "redirectUri": format!("http://localhost:{}/oauth/callback", pre.callback_port),
            "scopes": scopes,
        }),
        None => json!({"enabled": true, "scopes": scopes}),
    };
    let entry = json!({"url": values.server_url, "type": "http", "oauth": oauth});
    let (snippet, entry_path) = servers_snippet("mcpServers", &values.name, entry);
    let gemini_dir = values.dirs.gemini_cli_home(&values.home).join(".gemini");
    ClientConfig {
        client: Client::GeminiCli,
        registration: Registration::of(pre),
        format: ConfigFormat::JsonWithComments,
        snippet,
        entry_path,
        locations: vec![
            ConfigLocation {
                scope: "user; $GEMINI_CLI_HOME moves it",
                kind: Some(super::ConfigScope::User),
                path: gemini_dir.join("settings.json"),
            },
            ConfigLocation {
                scope: "project",
                kind: Some(super::ConfigScope::Project),
                path: ".gemini/settings.json".into(),
            },
        ],
        commands: vec![(
            "gemini mcp list".to_owned(),
            "check it: Connected once logged in".to_owned(),
        )],
        steps: vec![
            "Write the entry with --write (`gemini mcp add` has no OAuth options); kcdev names the scopes so that registration asks only for those.".to_owned(),
            format!(
                "Start `gemini` in a trusted folder and run /mcp auth {}.",
                values.name
            ),
            login_step(values),
        ],
    }
}
