//! Zed reads `context_servers` from its settings file (JSON with comments:
//! `$XDG_CONFIG_HOME/zed/settings.json`, `~/.config/zed/settings.json`, on Linux and macOS). A
//! remote server is `{"url": ...}`. It logs in by itself: a Client ID Metadata Document on
//! zed.dev where the realm offers CIMD, else registration, with a loopback callback (port 27523);
//! no client id setting. From Zed's docs; not run against a realm here.

use serde_json::json;

use super::{
    ClientConfig, ConfigFormat, ConfigLocation, ConnectionValues, login_step, servers_snippet,
};
use crate::clients::{Client, Registration};

/// Loopback callback; which spelling is not observed, and both are trusted.
pub(super) const REGISTRATION_HOSTS: &[&str] = &["127.0.0.1", "localhost"];

pub(super) fn config(values: &ConnectionValues) -> ClientConfig {
    let (snippet, entry_path) = servers_snippet(
        "context_servers",
        &values.name,
        json!({"url": values.server_url}),
    );
    let settings = if cfg!(windows) {
        values.home.join("AppData/Roaming/Zed/settings.json")
    } else {
        values
            .dirs
            .xdg_config_home(&values.home)
            .join("zed/settings.json")
    };
    ClientConfig {
        client: Client::Zed,
        registration: Registration::Dynamic,
        format: ConfigFormat::JsonWithComments,
        snippet,
        entry_path,
        locations: vec![
            ConfigLocation {
                scope: "user; $XDG_CONFIG_HOME moves it",
                kind: Some(super::ConfigScope::User),
                path: settings,
            },
            ConfigLocation {
                scope: "project",
                kind: Some(super::ConfigScope::Project),
                path: ".zed/settings.json".into(),
            },
        ],
        commands: vec![],
        steps: vec![
            "Write the entry with --write (or zed: open settings), keeping your comments."
                .to_owned(),
            format!(
                "In the Agent panel's settings, {} asks to authenticate: choose it; the browser opens Keycloak.",
                values.name
            ),
            login_step(values),
        ],
    }
}
