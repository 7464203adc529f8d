//! The `kcdev` command: parse, run, report. Exit codes: 0 success, 1 failure (the message says
//! what failed and how to fix it), 2 invalid usage, 3 `status`: the instance is not up.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser};

use crate::cli::Cli;
use crate::commands::{Ctx, dispatch, instance_flag, project_file};
use crate::output::{Printer, report_error};

/// The only environment variable kcdev reads itself (clap reads `KCDEV_INSTANCE`).
const DOCKER_HOST: &str = "DOCKER_HOST";

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(command) = cli.json.then(|| cli.command.json_unsupported()).flatten() {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("--json does not apply to `kcdev {command}`: it prints a stream or a script, not a report"),
            )
            .exit();
    }
    let printer = Printer::new(cli.json, cli.quiet, cli.verbose);
    let instance = cli.instance.clone();
    let result = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| {
            let project = project_file(&cli.command, cli.config.as_deref())?;
            let ctx = Ctx::new(
                printer,
                cli.instance.clone(),
                std::env::var(DOCKER_HOST).ok(),
                project,
            )?;
            runtime.block_on(dispatch(&ctx, cli))
        });
    match result {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => {
            report_error(&printer, &error, &instance_flag(&instance));
            ExitCode::FAILURE
        }
    }
}
