//! One file per command: turn parsed arguments into an operation's options, run it, print the
//! report. No business logic here.

mod client_config;
mod completions;
mod doctor;
mod down;
mod env;
mod events;
mod export;
mod init;
mod logs;
mod new_server;
mod plan;
mod prune;
mod run;
mod status;
mod token;
mod up;

use kcdev::instance::Instance;
use kcdev::keycloak::AdminLogin;
use kcdev::ops::{EnvironmentSettings, InstanceContext};
use kcdev::project::{self, ProjectFile};
use kcdev::state::StateStore;

use crate::cli::{Cli, Command, NewCommand};
use crate::output::Printer;

/// How a command ended, as the process exit code documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything worked (0).
    Success,
    /// A check found a fault (`doctor`) (1).
    Unhealthy,
    /// The command ran, and its answer is "no" (`status`: not up) (3).
    NotUp,
    /// `up` would change the realm (`plan`) (4).
    Drift,
    /// The exit code of a program kcdev ran (`run`).
    Child(u8),
}

impl ExitStatus {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Unhealthy => 1,
            Self::NotUp => 3,
            Self::Drift => 4,
            Self::Child(code) => code,
        }
    }
}

/// What every command needs: where to print, and which instance it acts on.
pub struct Ctx {
    /// Output policy.
    pub printer: Printer,
    /// Instance, engine and state directory.
    pub instance: InstanceContext,
}

impl Ctx {
    /// Builds the context from the global flags and the environment.
    pub fn new(
        printer: Printer,
        instance: Instance,
        docker_host: Option<String>,
        project: Option<ProjectFile>,
    ) -> anyhow::Result<Self> {
        let env = |name: &str| std::env::var(name).ok();
        Ok(Self {
            printer,
            instance: InstanceContext {
                instance,
                docker_host,
                state: StateStore::from_environment()?,
                server_admin: AdminLogin::from_environment(env),
                project,
                environment: EnvironmentSettings::from_environment(env),
            },
        })
    }

    /// `--instance NAME` for commands printed in hints and next steps; empty for the default.
    pub fn instance_flag(&self) -> String {
        instance_flag(&self.instance.instance)
    }
}

/// The project file `command` reads: the one `--config` names, else the nearest `kcdev.toml`;
/// none for the commands that only look at the container or write files of their own.
pub fn project_file(
    command: &Command,
    named: Option<&std::path::Path>,
) -> anyhow::Result<Option<ProjectFile>> {
    if matches!(
        command,
        Command::Init
            | Command::Completions(_)
            | Command::Logs(_)
            | Command::Events(_)
            | Command::Down(_)
            | Command::Prune(_)
    ) {
        return Ok(None);
    }
    let start = std::env::current_dir()?;
    let Some(path) = project::locate(named, &start) else {
        return Ok(None);
    };
    Ok(Some(project::load(&path, &|name| {
        std::env::var(name).ok()
    })?))
}

/// `--instance NAME`, or nothing for the default instance.
pub fn instance_flag(instance: &Instance) -> String {
    if *instance == Instance::default_instance() {
        String::new()
    } else {
        format!(" --instance {instance}")
    }
}

/// Runs the parsed command.
pub async fn dispatch(ctx: &Ctx, cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Up(args) => up::run(ctx, args).await,
        Command::Init => init::run(ctx),
        Command::Status => status::run(ctx).await,
        Command::Plan => plan::run(ctx).await,
        Command::Export(args) => export::run(ctx, args),
        Command::Logs(args) => logs::run(ctx, args).await,
        Command::Events(args) => events::run(ctx, args).await,
        Command::Down(args) => down::run(ctx, args).await,
        Command::New(NewCommand::Server(args)) => new_server::run(ctx, args),
        Command::Run(args) => run::run(ctx, args).await,
        Command::Token(args) => token::run(ctx, args).await,
        Command::ClientConfig(args) => client_config::run(ctx, args),
        Command::Doctor(args) => doctor::run(ctx, args).await,
        Command::Env(args) => env::run(ctx, args),
        Command::Prune(args) => prune::run(ctx, args).await,
        Command::Completions(args) => completions::run(ctx, args),
    }
}
