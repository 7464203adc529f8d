//! Ready-to-paste configuration for the MCP clients people connect to a local server: each
//! client's config format, file location, commands and login steps, and the hosts its OAuth
//! registration uses (which the realm's trusted-host policy must allow).

mod claude_code;
mod claude_desktop;
mod codex;
mod cursor;
mod gemini_cli;
mod goose;
mod inspector;
mod merge;
mod vscode;
mod windsurf;
mod zed;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;

pub use merge::{ConfigFormat, MergeError, MergeOutcome, merge_entry};

/// The clients kcdev knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    /// Claude Desktop, through the mcp-remote bridge.
    ClaudeDesktop,
    /// Claude Code (the CLI).
    ClaudeCode,
    /// MCP Inspector (web UI and CLI).
    Inspector,
    /// Visual Studio Code.
    Vscode,
    /// Cursor.
    Cursor,
    /// OpenAI Codex CLI.
    Codex,
    /// Google Gemini CLI.
    GeminiCli,
    /// Goose (Block).
    Goose,
    /// Windsurf.
    Windsurf,
    /// Zed.
    Zed,
}

impl Client {
    /// Every client.
    pub const ALL: [Self; 10] = [
        Self::ClaudeDesktop,
        Self::ClaudeCode,
        Self::Inspector,
        Self::Vscode,
        Self::Cursor,
        Self::Codex,
        Self::GeminiCli,
        Self::Goose,
        Self::Windsurf,
        Self::Zed,
    ];

    /// The name used on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Self::ClaudeDesktop => "claude-desktop",
            Self::ClaudeCode => "claude-code",
            Self::Inspector => "inspector",
            Self::Vscode => "vscode",
            Self::Cursor => "cursor",
            Self::Codex => "codex",
            Self::GeminiCli => "gemini-cli",
            Self::Goose => "goose",
            Self::Windsurf => "windsurf",
            Self::Zed => "zed",
        }
    }

    /// The product name.
    pub fn title(self) -> &'static str {
        match self {
            Self::ClaudeDesktop => "Claude Desktop",
            Self::ClaudeCode => "Claude Code",
            Self::Inspector => "MCP Inspector",
            Self::Vscode => "VS Code",
            Self::Cursor => "Cursor",
            Self::Codex => "Codex CLI",
            Self::GeminiCli => "Gemini CLI",
            Self::Goose => "Goose",
            Self::Windsurf => "Windsurf",
            Self::Zed => "Zed",
        }
    }

    /// Hosts of the redirect URIs and `client_uri` the client sends when it registers: every
    /// one must be a trusted host of the realm, or registration is refused.
    pub fn registration_hosts(self) -> &'static [&'static str] {
        match self {
            Self::ClaudeDesktop => claude_desktop::REGISTRATION_HOSTS,
            Self::ClaudeCode => claude_code::REGISTRATION_HOSTS,
            Self::Inspector => inspector::REGISTRATION_HOSTS,
            Self::Vscode => vscode::REGISTRATION_HOSTS,
            Self::Cursor => cursor::REGISTRATION_HOSTS,
            Self::Codex => codex::REGISTRATION_HOSTS,
            Self::GeminiCli => gemini_cli::REGISTRATION_HOSTS,
            Self::Goose => goose::REGISTRATION_HOSTS,
            Self::Windsurf => windsurf::REGISTRATION_HOSTS,
            Self::Zed => zed::REGISTRATION_HOSTS,
        }
    }

    /// The client the realm holds for this MCP client, when it accepts a client id.
    pub fn pre_registered(self) -> Option<PreRegisteredClient> {
        match self {
            Self::ClaudeDesktop => Some(claude_desktop::PRE_REGISTERED),
            Self::ClaudeCode => Some(claude_code::PRE_REGISTERED),
            Self::Inspector => Some(inspector::PRE_REGISTERED),
            Self::Codex => Some(codex::PRE_REGISTERED),
            Self::GeminiCli => Some(gemini_cli::PRE_REGISTERED),
            Self::Goose => Some(goose::PRE_REGISTERED),
            Self::Vscode | Self::Cursor | Self::Windsurf | Self::Zed => None,
        }
    }

    /// The registration paths kcdev configures this client for; the first is the default.
    pub fn registrations(self) -> &'static [Registration] {
        if self.pre_registered().is_some() {
            &[Registration::PreRegistered, Registration::Dynamic]
        } else {
            &[Registration::Dynamic]
        }
    }

    /// The client's configuration for `values`, registering the way `registration` says.
    pub fn config(
        self,
        values: &ConnectionValues,
        registration: Registration,
    ) -> Result<ClientConfig, RegistrationUnsupported> {
        match registration {
            Registration::Dynamic => Ok(self.build(values, None)),
            Registration::PreRegistered => self
                .pre_registered()
                .map(|client| self.build(values, Some(client)))
                .ok_or(RegistrationUnsupported(self, registration)),
        }
    }

    /// The client's configuration for its default registration path (the first of
    /// [`Client::registrations`]).
    pub fn default_config(self, values: &ConnectionValues) -> ClientConfig {
        self.build(values, self.pre_registered())
    }

    fn build(self, values: &ConnectionValues, pre: Option<PreRegisteredClient>) -> ClientConfig {
        match self {
            Self::ClaudeDesktop => claude_desktop::config(values, pre),
            Self::ClaudeCode => claude_code::config(values, pre),
            Self::Inspector => inspector::config(values, pre),
            Self::Vscode => vscode::config(values),
            Self::Cursor => cursor::config(values),
            Self::Codex => codex::config(values, pre),
            Self::GeminiCli => gemini_cli::config(values, pre),
            Self::Goose => goose::config(values, pre),
            Self::Windsurf => windsurf::config(values),
            Self::Zed => zed::config(values),
        }
    }
}

/// How an MCP client gets a client id from the realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Registration {
    /// A client id the realm already holds (`kcdev-claude-code`, ...), given in the config.
    PreRegistered,
    /// Anonymous Dynamic Client Registration (RFC 7591) at first login.
    #[serde(rename = "dcr")]
    Dynamic,
}

impl Registration {
    /// The path a configuration with (or without) a pre-registered client takes.
    fn of(pre: Option<PreRegisteredClient>) -> Self {
        if pre.is_some() {
            Self::PreRegistered
        } else {
            Self::Dynamic
        }
    }

    /// The name used on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Self::PreRegistered => "pre-registered",
            Self::Dynamic => "dcr",
        }
    }

    /// What it is, in a few words.
    pub fn title(self) -> &'static str {
        match self {
            Self::PreRegistered => "a pre-registered client",
            Self::Dynamic => "dynamic client registration",
        }
    }
}

/// A client that does not offer the registration path asked for.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{} cannot use {}; it registers by {}", .0.title(), .1.title(), .0.registrations()[0].title())]
pub struct RegistrationUnsupported(pub Client, pub Registration);

/// A public client kcdev keeps in the realm for one MCP client (declared in `realm/realm.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PreRegisteredClient {
    pub client_id: &'static str,
    /// The port the config pins the client's OAuth callback to: the realm allows that one only.
    pub callback_port: u16,
    /// Every redirect URI the client sends with that port (they differ by platform).
    pub redirect_uris: &'static [&'static str],
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A client name kcdev does not know.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown client {name:?}; choose one of {}", Client::ALL.map(Client::id).join(", "), name = .0)]
pub struct UnknownClient(String);

impl FromStr for Client {
    type Err = UnknownClient;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|client| client.id() == name)
            .ok_or_else(|| UnknownClient(name.to_owned()))
    }
}

/// What every client configuration is built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionValues {
    /// The entry's name in the client's config.
    pub name: String,
    /// The MCP resource URL (server base URL + `/mcp`).
    pub server_url: String,
    /// The realm's issuer.
    pub issuer: String,
    /// The scope the server requires.
    pub scope: String,
    /// A test user's name and password, to log in with.
    pub user: (String, String),
    /// The user's home directory (for config file locations).
    pub home: PathBuf,
    /// The variables clients read their config directory from, where set.
    pub dirs: ConfigDirs,
}

/// Environment variables that move a client's config directory away from the home directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfigDirs {
    /// `CODEX_HOME` (Codex; default `~/.codex`).
    pub codex_home: Option<PathBuf>,
    /// `GEMINI_CLI_HOME` (Gemini CLI; the directory holding `.gemini`, default `~`).
    pub gemini_cli_home: Option<PathBuf>,
    /// `XDG_CONFIG_HOME` (Goose and Zed; default `~/.config`).
    pub xdg_config_home: Option<PathBuf>,
    /// `GOOSE_PATH_ROOT` (Goose keeps its config in `config/` under it).
    pub goose_path_root: Option<PathBuf>,
}

impl ConfigDirs {
    /// Reads the variables through `env` (empty counts as unset).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Self {
        let dir = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        Self {
            codex_home: dir("CODEX_HOME"),
            gemini_cli_home: dir("GEMINI_CLI_HOME"),
            xdg_config_home: dir("XDG_CONFIG_HOME"),
            goose_path_root: dir("GOOSE_PATH_ROOT"),
        }
    }

    fn codex_home(&self, home: &std::path::Path) -> PathBuf {
        self.codex_home
            .clone()
            .unwrap_or_else(|| home.join(".codex"))
    }

    fn gemini_cli_home(&self, home: &std::path::Path) -> PathBuf {
        self.gemini_cli_home
            .clone()
            .unwrap_or_else(|| home.to_owned())
    }

    fn xdg_config_home(&self, home: &std::path::Path) -> PathBuf {
        self.xdg_config_home
            .clone()
            .unwrap_or_else(|| home.join(".config"))
    }

    /// Goose's directory: `$GOOSE_PATH_ROOT/config`, else the XDG one on Linux and macOS (Goose
    /// uses XDG paths on macOS too), `%APPDATA%/Block/goose/config` on Windows.
    fn goose_config_dir(&self, home: &std::path::Path) -> PathBuf {
        match &self.goose_path_root {
            Some(root) => root.join("config"),
            None if cfg!(windows) => home.join("AppData/Roaming/Block/goose/config"),
            None => self.xdg_config_home(home).join("goose"),
        }
    }
}

/// Which of a client's config files: the user's own, or the project's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigScope {
    /// The user's file, for every project.
    User,
    /// The project's file (in the working directory), shared with whoever checks it out.
    Project,
}

impl ConfigScope {
    /// The name used on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Project => "project",
        }
    }
}

/// Where a client keeps its configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigLocation {
    /// When this location applies ("macOS", "project", ...).
    pub scope: &'static str,
    /// Whether it is the user's or the project's file (`--scope`), where the client has both.
    pub kind: Option<ConfigScope>,
    /// The file.
    pub path: PathBuf,
}

/// Everything a user needs to connect one client.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientConfig {
    pub client: Client,
    pub registration: Registration,
    /// The config file's format (the snippet is printed and merged in it).
    pub format: ConfigFormat,
    /// The entry to put in the client's config file, as JSON.
    pub snippet: Value,
    /// The key path of the entry inside the file (e.g. `["mcpServers", "kcdev"]`).
    pub entry_path: Vec<String>,
    /// Where the file is; the first one is what `--write` uses by default.
    pub locations: Vec<ConfigLocation>,
    /// Shell commands, with what each does.
    pub commands: Vec<(String, String)>,
    /// What to do after configuring.
    pub steps: Vec<String>,
}

impl ClientConfig {
    /// Puts the `scope` file first (where `--write` writes); `false` when the client has none.
    pub fn choose_scope(&mut self, scope: ConfigScope) -> bool {
        let Some(index) = self
            .locations
            .iter()
            .position(|location| location.kind == Some(scope))
        else {
            return false;
        };
        let chosen = self.locations.remove(index);
        self.locations.insert(0, chosen);
        true
    }

    /// The entry itself (the snippet without its enclosing keys).
    pub fn entry(&self) -> &Value {
        self.entry_path
            .iter()
            .fold(&self.snippet, |value, key| &value[key.as_str()])
    }
}

fn servers_snippet(top_key: &str, name: &str, entry: Value) -> (Value, Vec<String>) {
    let snippet = serde_json::json!({ top_key: { name: entry } });
    (snippet, vec![top_key.to_owned(), name.to_owned()])
}

fn login_step(values: &ConnectionValues) -> String {
    format!(
        "Log in as {} / {} (or testadmin, for admin-only tools) when the browser opens Keycloak.",
        values.user.0, values.user.1
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realm::RealmSpec;

    pub(crate) fn values() -> ConnectionValues {
        ConnectionValues {
            name: "kcdev".into(),
            server_url: "http://localhost:8000/mcp".into(),
            issuer: "http://localhost:8080/realms/fastmcp".into(),
            scope: "mcp:tools".into(),
            user: ("testuser".into(), "password123".into()),
            home: PathBuf::from("/home/dev"),
            dirs: ConfigDirs::default(),
        }
    }

    #[test]
    fn every_registration_host_is_trusted_by_the_realm() {
        let spec = RealmSpec::render(&crate::realm::test_variables()).unwrap();
        let trusted = spec.trusted_hosts();
        for client in Client::ALL {
            for host in client.registration_hosts() {
                assert!(
                    trusted.iter().any(|t| t == host),
                    "{client}: {host} is not a trusted host of the realm"
                );
            }
        }
    }

    #[test]
    fn every_client_points_at_the_server_url() {
        for client in Client::ALL {
            for registration in client.registrations() {
                let config = client.config(&values(), *registration).unwrap();
                let text = serde_json::to_string(&config.snippet).unwrap();
                assert!(
                    text.contains("http://localhost:8000/mcp"),
                    "{client}: {text}"
                );
                assert!(!config.locations.is_empty(), "{client}");
                assert!(config.entry().is_object(), "{client}");
                assert_eq!(config.registration, *registration);
            }
            assert_eq!(client.id().parse::<Client>().unwrap(), client);
        }
        assert!("emacs".parse::<Client>().is_err());
        assert_eq!(
            Client::Vscode.config(&values(), Registration::PreRegistered),
            Err(RegistrationUnsupported(
                Client::Vscode,
                Registration::PreRegistered
            ))
        );
    }

    /// Each client's entry merged into a realistic file of its own format: the user's comments,
    /// other entries and keys stay, an older entry of the same name is replaced whole, the entry
    /// reads back as built, and a broken file is refused untouched.
    #[test]
    fn each_client_merges_into_its_own_file_format() {
        let cases: [(Client, &str, &str, &[&str]); 5] = [
            (
                Client::Codex,
                "# codex\nmodel = \"o3\" # mine\n\n[mcp_servers.other]\ncommand = \"x\"\n\n[mcp_servers.kcdev]\nurl = \"old\"\nstale = 1\n",
                "[mcp_servers\n",
                &[
                    "[mcp_servers.kcdev.oauth]",
                    "callback_port = 33422",
                    "callback_url = \"http://localhost:33422/callback\"",
                ],
            ),
            (
                Client::GeminiCli,
                "{\n  // gemini\n  \"theme\": \"x\",\n  \"mcpServers\": {\"other\": {\"command\": \"x\"}, \"kcdev\": {\"httpUrl\": \"old\", \"stale\": 1}}\n}\n",
                "{\n  \"mcpServers\": {\n",
                &[
                    "\"redirectUri\": \"http://localhost:33423/oauth/callback\"",
                    "\"type\": \"http\"",
                ],
            ),
            (
                Client::Goose,
                "# goose\nGOOSE_MODEL: x # mine\nextensions:\n  other:\n    type: builtin\n  kcdev:\n    type: sse\n    stale: 1\n",
                "extensions:\n  - [\n",
                &["type: streamable_http", "client_id: kcdev-goose"],
            ),
            (
                Client::Windsurf,
                "{\"mcpServers\": {\"other\": {\"command\": \"x\"}, \"kcdev\": {\"url\": \"old\", \"stale\": 1}}, \"theme\": \"x\"}",
                "{\"mcpServers\": ",
                &["\"serverUrl\": \"http://localhost:8000/mcp\""],
            ),
            (
                Client::Zed,
                "// zed\n{\n  \"vim_mode\": true, // mine\n  \"context_servers\": {\"other\": {\"command\": \"x\"}, \"kcdev\": {\"url\": \"old\", \"stale\": 1},},\n}\n",
                "{\"context_servers\": {,,}}",
                &[
                    "\"context_servers\"",
                    "\"url\": \"http://localhost:8000/mcp\"",
                ],
            ),
        ];
        for (client, existing, broken, fragments) in cases {
            let config = client.default_config(&values());
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("config");
            std::fs::write(&file, existing).unwrap();
            merge_entry(&file, config.format, &config.entry_path, config.entry())
                .unwrap_or_else(|err| panic!("{client}: {err}"));
            let text = std::fs::read_to_string(&file).unwrap();
            let comment = existing.lines().next().unwrap();
            if comment.starts_with('#') || comment.starts_with("//") {
                assert!(text.contains(comment), "{client}: comment lost:\n{text}");
                assert!(
                    text.contains("# mine") || text.contains("// mine"),
                    "{client}:\n{text}"
                );
            }
            assert!(
                text.contains("other"),
                "{client}: other entry lost:\n{text}"
            );
            assert!(!text.contains("stale"), "{client}: old entry kept:\n{text}");
            for fragment in fragments {
                assert!(text.contains(fragment), "{client}: no {fragment}:\n{text}");
            }
            assert_eq!(
                merge_entry(&file, config.format, &config.entry_path, config.entry()).unwrap(),
                MergeOutcome::Unchanged,
                "{client}"
            );
            std::fs::write(&file, broken).unwrap();
            assert!(
                merge_entry(&file, config.format, &config.entry_path, config.entry()).is_err(),
                "{client}"
            );
            assert_eq!(std::fs::read_to_string(&file).unwrap(), broken, "{client}");
        }
    }

    #[test]
    fn config_files_follow_home_and_each_clients_variable() {
        let mut values = values();
        let check = |values: &ConnectionValues, expected: &[(Client, &str)]| {
            for (client, path) in expected {
                assert_eq!(
                    client.default_config(values).locations[0].path,
                    PathBuf::from(path),
                    "{client}"
                );
            }
        };
        check(
            &values,
            &[
                (Client::Codex, "/home/dev/.codex/config.toml"),
                (Client::GeminiCli, "/home/dev/.gemini/settings.json"),
                (
                    Client::Windsurf,
                    "/home/dev/.codeium/windsurf/mcp_config.json",
                ),
            ],
        );
        if cfg!(unix) {
            check(
                &values,
                &[
                    (Client::Goose, "/home/dev/.config/goose/config.yaml"),
                    (Client::Zed, "/home/dev/.config/zed/settings.json"),
                ],
            );
        }
        values.dirs = ConfigDirs::from_env(|name| {
            Some(format!("/env/{name}")).filter(|_| name != "GOOSE_PATH_ROOT")
        });
        check(
            &values,
            &[
                (Client::Codex, "/env/CODEX_HOME/config.toml"),
                (
                    Client::GeminiCli,
                    "/env/GEMINI_CLI_HOME/.gemini/settings.json",
                ),
            ],
        );
        if cfg!(unix) {
            check(
                &values,
                &[
                    (Client::Goose, "/env/XDG_CONFIG_HOME/goose/config.yaml"),
                    (Client::Zed, "/env/XDG_CONFIG_HOME/zed/settings.json"),
                ],
            );
        }
        values.dirs.goose_path_root = Some("/goose".into());
        check(&values, &[(Client::Goose, "/goose/config/config.yaml")]);
    }

    /// What `client-config` tells a client must be what the realm spec declares: the client id
    /// exists, is public with PKCE, and allows exactly the redirect URIs the client will send.
    #[test]
    fn pre_registered_clients_are_in_the_realm_with_their_redirects() {
        let spec = RealmSpec::render(&crate::realm::test_variables()).unwrap();
        for client in Client::ALL {
            let Some(pre) = client.pre_registered() else {
                continue;
            };
            let declared = spec
                .clients
                .iter()
                .find(|c| c["clientId"] == pre.client_id)
                .unwrap_or_else(|| panic!("{client}: {} not in realm.toml", pre.client_id));
            assert_eq!(declared["publicClient"], true, "{client}");
            assert_eq!(
                declared["attributes"]["pkce.code.challenge.method"], "S256",
                "{client}"
            );
            let declared_uris: Vec<&str> = declared["redirectUris"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|u| u.as_str())
                .collect();
            assert_eq!(declared_uris, pre.redirect_uris, "{client}");
            let port = format!(":{}/", pre.callback_port);
            assert!(
                pre.redirect_uris.iter().any(|uri| uri.contains(&port)),
                "{client}: no redirect URI on its callback port"
            );
            let config = client
                .config(&values(), Registration::PreRegistered)
                .unwrap();
            let printed = serde_json::to_string(&config).unwrap();
            assert!(printed.contains(pre.client_id), "{client}: {printed}");
            assert!(
                printed.contains(&pre.callback_port.to_string()),
                "{client}: {printed}"
            );
        }
    }
}
