//! Command-line definitions. Doc comments are the help text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kcdev::clients::{Client, ConfigScope, Registration};
use kcdev::docker::{BootMode, PullPolicy};
use kcdev::instance::Instance;
use kcdev::ops::PortRequest;
use kcdev::scaffold::Language;

/// A complete local Keycloak for OAuth-protected MCP servers, in one command.
///
/// `kcdev up` starts Keycloak in Docker and provisions a realm that MCP clients can register
/// with (dynamic client registration) and whose tokens MCP servers accept (audience, roles,
/// scope). Then scaffold a server with `kcdev new server` and connect a client with
/// `kcdev client-config`.
#[derive(Debug, Parser)]
#[command(
    name = "kcdev",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("KCDEV_COMMIT"), ")"),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Instance to act on: independent setups (container, volume, state) coexist under different names.
    #[arg(
        long,
        global = true,
        env = "KCDEV_INSTANCE",
        default_value = "default",
        value_name = "NAME"
    )]
    pub instance: Instance,

    /// The project file (kcdev.toml) to use [default: kcdev.toml in this directory or the nearest
    /// parent].
    #[arg(long, global = true, env = "KCDEV_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Print one JSON object on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Show more detail (every realm object provisioning looked at).
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Show only errors and the requested data.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// kcdev's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start Keycloak and provision the MCP realm (idempotent: repairs drift, changes nothing else).
    Up(UpArgs),
    /// Write a commented kcdev.toml into this directory: your server's realm as code.
    ///
    /// As written, it declares kcdev's defaults, so adopting it changes nothing in the realm;
    /// declare your scopes, roles, groups, users and claims in it, and `kcdev up` reconciles them.
    Init,
    /// Show the container, its health and the realm's state. Exits 0 when up, 3 when not.
    Status,
    /// Show what `up` would change in the realm, field by field, changing nothing.
    ///
    /// Exits 0 when the realm matches its spec, 4 when `up` would change something (drift), 1
    /// when the plan could not be made (Keycloak down or unreachable): CI can gate on drift and
    /// still tell it from a failure.
    Plan,
    /// Write the realm as a file Keycloak imports, for a team server or a Kubernetes cluster.
    ///
    /// `--format keycloak` (default): a realm JSON for `kc.sh import --file`, `start
    /// --import-realm` or keycloak-config-cli. `--format operator`: a Keycloak Operator
    /// `KeycloakRealmImport`. Built from kcdev's realm spec and this instance's settings, not read
    /// from a server. Environment-specific values are `${NAME:default}` placeholders, listed on
    /// stderr.
    Export(ExportArgs),
    /// Print Keycloak's logs.
    Logs(LogsArgs),
    /// Show what MCP clients did in the realm, and why what failed failed, in MCP terms.
    ///
    /// A timeline of registrations, logins, tokens and refreshes: the client (its name and how it
    /// got its client id: pre-registered, DCR or CIMD), the user, the scopes granted. A failure
    /// says what went wrong and what fixes it (a kcdev flag, a kcdev.toml line or a client
    /// setting), from Keycloak's events and, where they lack detail, Keycloak's log. `--json`
    /// prints one object per line.
    Events(EventsArgs),
    /// Stop and remove the container; keep the data unless --volumes.
    Down(DownArgs),
    /// Create a project wired to the realm.
    #[command(subcommand)]
    New(NewCommand),
    /// Build and run a generated MCP server against the realm (Ctrl-C stops it).
    Run(RunArgs),
    /// Print an access token of a test user (or one kcdev.toml declares), for curl and scripts.
    Token(TokenArgs),
    /// Print (or write) the configuration that connects an MCP client to your server.
    ClientConfig(ClientConfigArgs),
    /// Check the whole chain (Docker, Keycloak, realm, registration, login, your server); exits 1 on a fault.
    Doctor(DoctorArgs),
    /// Print the values an MCP server needs, as dotenv lines.
    ///
    /// `kcdev env > .env`, or `eval "$(kcdev env --export)"`; the names are the ones the generated
    /// server reads and `kcdev run` sets.
    Env(EnvArgs),
    /// Remove the optimized images kcdev derived that no container uses any more.
    Prune(PruneArgs),
    /// Print a shell completion script.
    ///
    /// For example `kcdev completions bash > ~/.local/share/bash-completion/completions/kcdev`.
    Completions(CompletionsArgs),
}

impl Command {
    /// Commands whose output is a stream or a script, not a report: `--json` has no meaning there.
    pub fn json_unsupported(&self) -> Option<&'static str> {
        match self {
            Self::Run(_) => Some("run"),
            Self::Completions(_) => Some("completions"),
            Self::Init => Some("init"),
            Self::Logs(LogsArgs { follow: true, .. }) => Some("logs --follow"),
            _ => None,
        }
    }
}

/// Options of `kcdev export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "keycloak")]
    pub format: ExportFormatArg,

    /// Include the test users, their password a placeholder (`KCDEV_TEST_USER_PASSWORD`).
    #[arg(long)]
    pub include_test_users: bool,

    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The Keycloak custom resource the import is for (`--format operator`).
    #[arg(long, value_name = "NAME", default_value = "keycloak")]
    pub keycloak_cr: String,

    /// Also write kcdev's Keycloak provider (the registration policy that lets dynamically
    /// registered clients step up) to this jar, for the server's `providers/` directory.
    #[arg(long, value_name = "FILE")]
    pub provider_jar: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormatArg {
    /// Realm JSON for Keycloak's import.
    Keycloak,
    /// KeycloakRealmImport (k8s.keycloak.org/v2alpha1) YAML.
    Operator,
}

/// Options of `kcdev prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Only the images derived from this one.
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
}

/// Options of `kcdev env`.
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Prefix each line with `export ` for `eval` in a shell.
    #[arg(long)]
    pub export: bool,

    /// The values for this one of the instance's servers [default: the primary one].
    #[arg(long, value_name = "URL")]
    pub server_url: Option<String>,
}

/// Options of `kcdev completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Options of `kcdev doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Your MCP server's base URL [default: the instance's --server-url].
    #[arg(long, value_name = "URL")]
    pub server_url: Option<String>,
}

/// The MCP clients `client-config` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientArg {
    /// Claude Desktop (through the mcp-remote bridge).
    ClaudeDesktop,
    /// Claude Code.
    ClaudeCode,
    /// MCP Inspector.
    Inspector,
    /// VS Code.
    Vscode,
    /// Cursor.
    Cursor,
    /// OpenAI Codex CLI.
    Codex,
    /// Google Gemini CLI.
    GeminiCli,
    /// Goose.
    Goose,
    /// Windsurf.
    Windsurf,
    /// Zed.
    Zed,
}

impl From<ClientArg> for Client {
    fn from(client: ClientArg) -> Self {
        match client {
            ClientArg::ClaudeDesktop => Self::ClaudeDesktop,
            ClientArg::ClaudeCode => Self::ClaudeCode,
            ClientArg::Inspector => Self::Inspector,
            ClientArg::Vscode => Self::Vscode,
            ClientArg::Cursor => Self::Cursor,
            ClientArg::Codex => Self::Codex,
            ClientArg::GeminiCli => Self::GeminiCli,
            ClientArg::Goose => Self::Goose,
            ClientArg::Windsurf => Self::Windsurf,
            ClientArg::Zed => Self::Zed,
        }
    }
}

/// The registration paths `client-config --registration` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegistrationArg {
    /// A client id the realm already holds: nothing registers, the callback port is fixed.
    PreRegistered,
    /// Dynamic client registration at first login.
    Dcr,
}

impl From<RegistrationArg> for Registration {
    fn from(registration: RegistrationArg) -> Self {
        match registration {
            RegistrationArg::PreRegistered => Self::PreRegistered,
            RegistrationArg::Dcr => Self::Dynamic,
        }
    }
}

/// The config files `client-config --scope` chooses between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    /// The user's file, for every project.
    User,
    /// The project's file in the working directory, shared with whoever checks it out.
    Project,
}

impl From<ScopeArg> for ConfigScope {
    fn from(scope: ScopeArg) -> Self {
        match scope {
            ScopeArg::User => Self::User,
            ScopeArg::Project => Self::Project,
        }
    }
}

/// Options of `kcdev client-config`.
#[derive(Debug, Args)]
pub struct ClientConfigArgs {
    /// The client.
    #[arg(value_enum, required_unless_present = "list")]
    pub client: Option<ClientArg>,

    /// List the clients and their config files.
    #[arg(long, conflicts_with = "client")]
    pub list: bool,

    /// Your MCP server's base URL [default: the instance's --server-url].
    #[arg(long, value_name = "URL")]
    pub server_url: Option<String>,

    /// The server's name in the client's config (letters, digits, '-', '_', '.').
    #[arg(long, default_value = "kcdev")]
    pub name: String,

    /// How the client gets its client id [default: pre-registered where the client accepts a
    /// client id (Claude Code, Codex, Gemini CLI, Goose, Inspector, Claude Desktop), dcr for the
    /// others].
    #[arg(long, value_enum, value_name = "PATH")]
    pub registration: Option<RegistrationArg>,

    /// Merge the entry into the client's config file (or PATH), keeping a backup.
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    pub write: Option<Option<PathBuf>>,

    /// Which file, for clients with a user and a project file (Claude Code, Cursor, Gemini CLI,
    /// Zed) [default: the client's own default: user for Claude Code, whose project servers wait
    /// for an approval in `claude`].
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,
}

/// What `kcdev new` creates.
#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// A Rust MCP server (rmcp, axum, jsonwebtoken) that accepts exactly the realm's tokens.
    Server(NewServerArgs),
}

/// The languages `kcdev new server --lang` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LanguageArg {
    /// rmcp and axum, tokens checked with jsonwebtoken.
    Rust,
    /// FastMCP with its KeycloakAuthProvider.
    #[value(alias = "py")]
    Python,
    /// The MCP TypeScript SDK on express, tokens checked with jose.
    #[value(alias = "ts")]
    Typescript,
}

impl From<LanguageArg> for Language {
    fn from(language: LanguageArg) -> Self {
        match language {
            LanguageArg::Rust => Self::Rust,
            LanguageArg::Python => Self::Python,
            LanguageArg::Typescript => Self::TypeScript,
        }
    }
}

/// Options of `kcdev new server`.
#[derive(Debug, Args)]
pub struct NewServerArgs {
    /// Project and package name.
    #[arg(default_value = "mcp-server")]
    pub name: String,

    /// The server's language.
    #[arg(long, value_enum, default_value = "rust")]
    pub lang: LanguageArg,

    /// Directory to create it in [default: the name].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Write into a non-empty directory (files with the same names are replaced).
    #[arg(long)]
    pub force: bool,

    /// Realm URL to trust [default: the instance's realm].
    #[arg(long, value_name = "URL")]
    pub realm_url: Option<String>,

    /// The server's base URL [default: the instance's --server-url].
    #[arg(long, value_name = "URL")]
    pub server_url: Option<String>,
}

/// Options of `kcdev run`: the project's language is told by its manifest (Cargo.toml,
/// pyproject.toml or package.json).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,

    /// Run it as this one of the instance's servers (its URL, port and audience) [default: the
    /// primary one].
    #[arg(long, value_name = "URL")]
    pub server_url: Option<String>,
}

/// Options of `kcdev token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// User to log in as: a test user, or one kcdev.toml declares.
    #[arg(long, default_value = "testuser")]
    pub user: String,

    /// Their password [default: the one kcdev set for that user].
    #[arg(long)]
    pub password: Option<String>,

    /// Print the token's claims instead of the token.
    #[arg(long)]
    pub decode: bool,

    /// Ask for the token for one server's resource URL (RFC 8707); with `up
    /// --resource-indicators` its audience is then that URL alone.
    #[arg(long, value_name = "URL")]
    pub resource: Option<String>,

    /// Ask for a scope on top of the MCP scope, e.g. `mcp:admin` for the template's admin tool
    /// (repeatable).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
}

/// When to pull the Keycloak image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PullArg {
    /// Pull only if the image is not present locally.
    Missing,
    /// Always pull.
    Always,
    /// Never pull; fail if the image is missing.
    Never,
}

impl From<PullArg> for PullPolicy {
    fn from(pull: PullArg) -> Self {
        match pull {
            PullArg::Missing => Self::Missing,
            PullArg::Always => Self::Always,
            PullArg::Never => Self::Never,
        }
    }
}

/// Options of `kcdev up`. Unset options keep what the last `up` of the instance used.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Keycloak image (26.6.0 or later) [default: the official image, pinned].
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,

    /// When to pull the image.
    #[arg(long, value_enum, default_value = "missing")]
    pub pull: PullArg,

    /// Host port for Keycloak's HTTP listener, on 127.0.0.1; `auto` (or 0) picks a free one and
    /// keeps it [default: 8080].
    #[arg(long, value_name = "PORT", value_parser = parse_port)]
    pub port: Option<PortRequest>,

    /// Host port for Keycloak's management interface (health), on 127.0.0.1; `auto` (or 0) picks
    /// a free one and keeps it [default: 9000].
    #[arg(long, value_name = "PORT", value_parser = parse_port)]
    pub management_port: Option<PortRequest>,

    /// Container memory limit, e.g. 1g or 768m [default: 1g].
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    pub memory: Option<u64>,

    /// How Keycloak boots: `optimized` runs `start --optimized` on an image kcdev derives once from
    /// --image (built for its options, database pre-initialized); `dev` runs `start-dev` on the
    /// image as it is [default: optimized for a new instance, else what the last `up` used].
    #[arg(long, value_enum, value_name = "BOOT")]
    pub boot: Option<BootArg>,

    /// Seconds to wait for Keycloak to become ready.
    #[arg(long, value_name = "SECONDS", default_value = "180", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Replace the container when its settings differ from the options (the data volume stays).
    #[arg(long)]
    pub recreate: bool,

    /// Realm name [default: fastmcp].
    #[arg(long, value_name = "NAME")]
    pub realm: Option<String>,

    /// Base URL of your MCP server; its resource URL is this plus /mcp. Repeatable, for several
    /// servers on one realm (a gateway and a tool server, say); the first is the primary one
    /// [default: http://localhost:8000].
    #[arg(long = "server-url", value_name = "URL")]
    pub server_urls: Vec<String>,

    /// RFC 8707 resource indicators (Keycloak's experimental resource-indicators feature): a
    /// token asked for with `resource=<server>/mcp` carries that URL alone as its audience, and
    /// an unknown resource gets `invalid_target`. Sticks until --no-resource-indicators.
    #[arg(long, overrides_with = "no_resource_indicators")]
    pub resource_indicators: bool,

    /// Stop narrowing audiences to the requested resource.
    #[arg(long, overrides_with = "resource_indicators")]
    pub no_resource_indicators: bool,

    /// Another host MCP clients may register redirect URIs on (repeatable).
    #[arg(long = "trusted-host", value_name = "HOST")]
    pub trusted_hosts: Vec<String>,

    /// Password of the test users [default: password123].
    #[arg(long, value_name = "PASSWORD")]
    pub user_password: Option<String>,

    /// Offer Client ID Metadata Documents (Keycloak's experimental cimd feature): Claude Code and
    /// VS Code then log in with a URL as client id, which Keycloak fetches from the internet at
    /// login. Sticks until --no-cimd.
    #[arg(long, overrides_with = "no_cimd")]
    pub cimd: bool,

    /// Stop offering Client ID Metadata Documents.
    #[arg(long, overrides_with = "cimd")]
    pub no_cimd: bool,

    /// Another domain CIMD documents and their redirect URIs may be on (repeatable; with --cimd).
    #[arg(long = "cimd-domain", value_name = "DOMAIN", requires = "cimd")]
    pub cimd_domains: Vec<String>,

    /// Delete the realm and provision it from scratch (registered clients and your changes go).
    /// On a server kcdev does not run, the realm's name must follow: --reset-realm NAME.
    #[arg(long, value_name = "REALM", num_args = 0..=1)]
    pub reset_realm: Option<Option<String>>,

    /// Provision the realm on this Keycloak instead of running one (a team server, staging, CI's
    /// identity server); remembered for the instance. The admin login comes from the
    /// environment: KCDEV_ADMIN_USERNAME and KCDEV_ADMIN_PASSWORD (a master-realm admin), or
    /// KCDEV_ADMIN_CLIENT_ID and KCDEV_ADMIN_CLIENT_SECRET (a master-realm client whose service
    /// account has the admin role), and is never written to disk.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with_all = ["image", "port", "management_port", "memory", "boot", "recreate"]
    )]
    pub keycloak_url: Option<String>,

    /// PEM file of the certificate authority that signed that Keycloak's certificate, trusted
    /// beside the system's store by every call kcdev makes (remembered).
    #[arg(long, value_name = "PEM")]
    pub ca_cert: Option<PathBuf>,

    /// On a server kcdev does not run: provision the test users too (remembered). A container
    /// kcdev runs always has them.
    #[arg(long)]
    pub test_users: bool,

    /// On a server kcdev does not run: replace its anonymous client-registration policies with
    /// kcdev's laptop ones (loopback and the MCP clients' hosts; remembered). A container kcdev
    /// runs always has them.
    #[arg(long)]
    pub anonymous_registration: bool,

    /// On a server kcdev does not run: make the realm record what clients do (logins,
    /// registrations, token requests and their errors, kept a day) for `kcdev events`
    /// (remembered). A container kcdev runs always records them.
    #[arg(long)]
    pub events: bool,
}

/// How the container boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BootArg {
    /// `start --optimized` on kcdev's derived image.
    Optimized,
    /// `start-dev` on the image as it is.
    Dev,
}

impl From<BootArg> for BootMode {
    fn from(boot: BootArg) -> Self {
        match boot {
            BootArg::Optimized => Self::Optimized,
            BootArg::Dev => Self::Dev,
        }
    }
}

/// Options of `kcdev logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new output until interrupted.
    #[arg(short, long)]
    pub follow: bool,

    /// Start with the last N lines only.
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
}

/// Options of `kcdev events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Keep printing new events until interrupted (Ctrl-C).
    #[arg(short, long)]
    pub follow: bool,

    /// Only events this recent, e.g. 10m, 2h [default: all Keycloak keeps, a day].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub since: Option<Duration>,

    /// Only this client's events: its client id, or part of its name.
    #[arg(long, value_name = "CLIENT")]
    pub client: Option<String>,

    /// Only this user's events: a user name (or id).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Only failures.
    #[arg(long)]
    pub errors: bool,

    /// At most this many events, the most recent ones.
    #[arg(short = 'n', long, value_name = "N", default_value = "100")]
    pub limit: usize,
}

/// Options of `kcdev down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Also delete the data volume (realm, users, registered clients) and the state file.
    #[arg(long)]
    pub volumes: bool,
}

fn parse_memory(text: &str) -> Result<u64, String> {
    let bytes = parse_size::Config::new()
        .with_binary()
        .parse_size(text)
        .map_err(|err| format!("{err}; use a size such as 1g, 1536m or 768MiB"))?;
    const MIN: u64 = 512 << 20;
    if bytes < MIN {
        return Err("Keycloak needs at least 512m".to_owned());
    }
    Ok(bytes)
}

/// A day: longer waits are typos, and would overflow the clock arithmetic.
const MAX_TIMEOUT_SECONDS: u64 = 86_400;

fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<u64>() {
        Ok(seconds) if (1..=MAX_TIMEOUT_SECONDS).contains(&seconds) => {
            Ok(Duration::from_secs(seconds))
        }
        _ => Err(format!(
            "use a whole number of seconds from 1 to {MAX_TIMEOUT_SECONDS}"
        )),
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .ok()
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| "use a duration such as 30s, 10m, 2h or 1d".to_owned())
}

fn parse_port(text: &str) -> Result<PortRequest, String> {
    match text {
        "auto" | "0" => Ok(PortRequest::Auto),
        _ => match text.parse::<u16>() {
            Ok(port) if port > 0 => Ok(PortRequest::Fixed(port)),
            _ => Err("use a port from 1 to 65535, or `auto` for a free one".to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn memory_accepts_docker_spellings() {
        assert_eq!(parse_memory("1g"), Ok(1 << 30));
        assert_eq!(parse_memory("768m"), Ok(768 << 20));
        assert_eq!(parse_memory("1536MiB"), Ok(1536 << 20));
        assert!(parse_memory("12").is_err());
        assert!(parse_memory("lots").is_err());
    }

    #[test]
    fn ports_are_numbers_or_auto() {
        assert_eq!(parse_port("8080"), Ok(PortRequest::Fixed(8080)));
        assert_eq!(parse_port("auto"), Ok(PortRequest::Auto));
        assert_eq!(parse_port("0"), Ok(PortRequest::Auto));
        for bad in ["", "-1", "65536", "80x", "AUTO", " 80"] {
            assert!(parse_port(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn timeouts_are_bounded() {
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("86401").is_err());
        assert!(parse_seconds("18446744073709551615").is_err());
        assert_eq!(parse_seconds("300"), Ok(Duration::from_secs(300)));
    }

    #[test]
    fn durations_are_humane() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
    }

    #[test]
    fn instance_comes_from_the_flag() {
        let cli = Cli::try_parse_from(["kcdev", "status", "--instance", "second"]).unwrap();
        assert_eq!(cli.instance.name(), "second");
        assert!(Cli::try_parse_from(["kcdev", "status", "--instance", "Bad/Name"]).is_err());
    }
}
