use anyhow::Context as _;
use kcdev::ops;

use super::{Ctx, ExitStatus};
use crate::output::render_status;

pub async fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let report = ops::status(&ctx.instance).await.with_context(|| {
        format!(
            "cannot read the status of instance {}",
            ctx.instance.instance
        )
    })?;
    if ctx.printer.json() {
        ctx.printer.json_value(&report);
    } else {
        ctx.printer.summary(&render_status(&report));
    }
    Ok(if report.is_up() {
        ExitStatus::Success
    } else {
        ExitStatus::NotUp
    })
}
