use anyhow::Context as _;
use kcdev::ops::{self, DoctorOptions};

use super::{Ctx, ExitStatus};
use crate::cli::DoctorArgs;
use crate::output::render_doctor;

pub async fn run(ctx: &Ctx, args: DoctorArgs) -> anyhow::Result<ExitStatus> {
    let options = DoctorOptions {
        context: ctx.instance.clone(),
        server_url: args.server_url,
    };
    let report = ops::doctor(options)
        .await
        .context("cannot run the checks")?;
    if ctx.printer.json() {
        ctx.printer.json_value(&report);
    } else {
        ctx.printer
            .data(&render_doctor(&report, ctx.printer.quiet()));
    }
    Ok(if report.healthy() {
        ExitStatus::Success
    } else {
        ExitStatus::Unhealthy
    })
}
