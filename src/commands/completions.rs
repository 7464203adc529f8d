use clap::CommandFactory as _;

use super::{Ctx, ExitStatus};
use crate::cli::{Cli, CompletionsArgs};

pub fn run(ctx: &Ctx, args: CompletionsArgs) -> anyhow::Result<ExitStatus> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "kcdev", &mut script);
    ctx.printer.bytes(&script);
    Ok(ExitStatus::Success)
}
