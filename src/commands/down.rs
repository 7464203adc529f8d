use anyhow::Context as _;
use kcdev::ops::{self, DownOptions};

use super::{Ctx, ExitStatus};
use crate::cli::DownArgs;
use crate::output::render_down;

pub async fn run(ctx: &Ctx, args: DownArgs) -> anyhow::Result<ExitStatus> {
    let options = DownOptions {
        context: ctx.instance.clone(),
        volumes: args.volumes,
    };
    let report = ops::down(options, &ctx.printer.reporter())
        .await
        .with_context(|| format!("cannot take down instance {}", ctx.instance.instance))?;
    if ctx.printer.json() {
        ctx.printer.json_value(&report);
    } else {
        ctx.printer.summary(&render_down(&report));
    }
    Ok(ExitStatus::Success)
}
