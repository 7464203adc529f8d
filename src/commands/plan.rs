use anyhow::Context as _;
use kcdev::ops;

use super::{Ctx, ExitStatus};
use crate::output::render_plan;

pub async fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let report = ops::plan(&ctx.instance).await.with_context(|| {
        format!(
            "cannot plan the realm of instance {}",
            ctx.instance.instance
        )
    })?;
    if ctx.printer.json() {
        ctx.printer.json_value(&report);
    } else {
        ctx.printer
            .summary(&render_plan(&report, &ctx.instance_flag()));
    }
    Ok(if report.up_to_date() {
        ExitStatus::Success
    } else {
        ExitStatus::Drift
    })
}
