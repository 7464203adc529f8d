//! Goose reads `extensions` from `config.yaml` in its config directory (`$GOOSE_PATH_ROOT/config`,
//! else `$XDG_CONFIG_HOME/goose`, `~/.config/goose`). A `streamable_http` extension takes a
//! pre-registered `client_id` and its `scopes`; without one Goose offers its Client ID Metadata
//! Document (on goose-docs.ai), then registers. Its OAuth listener is
//! `http://127.0.0.1:<port>/oauth_callback`, the port from `GOOSE_OAUTH_CALLBACK_PORT` (an
//! environment variable only, not a config key) or a random one.
//! Read from Goose's source (crates/goose/src/oauth); not run against a realm here.

use serde_json::json;

use super::{
    ClientConfig, ConfigFormat, ConfigLocation, ConnectionValues, PreRegisteredClient,
    Registration, login_step, servers_snippet,
};
use crate::clients::Client;

/// Redirect `http://127.0.0.1:<port>/oauth_callback`.
pub(super) const REGISTRATION_HOSTS: &[&str] = &["127.0.0.1"];

pub(super) const PRE_REGISTERED: PreRegisteredClient = PreRegisteredClient {
    client_id: "kcdev-goose",
    callback_port: 33424,
    redirect_uris: &["http://127.0.0.1:33424/oauth_callback"],
};

pub(super) fn config(values: &ConnectionValues, pre: Option<PreRegisteredClient>) -> ClientConfig {
    let mut entry = json!({
        "enabled": true,
        "type": "streamable_http",
        "name": values.name,
        "description": format!("MCP server at {} (kcdev)", values.server_url),
        "uri": values.server_url,
        "timeout": 300,
    });
    let mut run = "goose session".to_owned();
    if let Some(pre) = pre {
        let scopes: Vec<&str> = std::iter::once("openid")
            .chain(values.scope.split_whitespace())
            .collect();
        entry["client_id"] = json!(pre.client_id);
        entry["scopes"] = json!(scopes);
        run = format!("GOOSE_OAUTH_CALLBACK_PORT={} {run}", pre.callback_port);
    }
    let (snippet, entry_path) = servers_snippet("extensions", &values.name, entry);
    let mut steps = vec![
        "Write the entry with --write (or add it under `extensions:` in config.yaml).".to_owned(),
    ];
    if let Some(pre) = pre {
        steps.push(format!(
            "Start Goose with GOOSE_OAUTH_CALLBACK_PORT={} (the realm allows that callback port only), as in the command above.",
            pre.callback_port
        ));
    }
    steps.push(format!(
        "Goose opens the browser when {} first connects.",
        values.name
    ));
    steps.push(login_step(values));
    ClientConfig {
        client: Client::Goose,
        registration: Registration::of(pre),
        format: ConfigFormat::Yaml,
        snippet,
        entry_path,
        locations: vec![ConfigLocation {
            scope: "user; $GOOSE_PATH_ROOT or $XDG_CONFIG_HOME moves it",
            kind: Some(super::ConfigScope::User),
            path: values
                .dirs
                .goose_config_dir(&values.home)
                .join("config.yaml"),
        }],
        commands: vec![(run, "start a session with the extension".to_owned())],
        steps,
    }
}
