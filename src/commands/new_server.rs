use anyhow::Context as _;
use kcdev::ops::{self, NewServerOptions};

use super::{Ctx, ExitStatus};
use crate::cli::NewServerArgs;
use crate::output::render_new_server;

pub fn run(ctx: &Ctx, args: NewServerArgs) -> anyhow::Result<ExitStatus> {
    let options = NewServerOptions {
        context: ctx.instance.clone(),
        language: args.lang.into(),
        name: args.name,
        dir: args.dir,
        force: args.force,
        realm_url: args.realm_url,
        server_url: args.server_url,
    };
    let report = ops::new_server(options).context("cannot create the MCP server project")?;
    if ctx.printer.json() {
        ctx.printer.json_value(&report);
    } else {
        ctx.printer
            .summary(&render_new_server(&report, &ctx.instance_flag()));
    }
    Ok(ExitStatus::Success)
}
