use anyhow::Context as _;
use kcdev::ops;

use super::{Ctx, ExitStatus};
use crate::cli::PruneArgs;

pub async fn run(ctx: &Ctx, args: PruneArgs) -> anyhow::Result<ExitStatus> {
    let report = ops::prune(&ctx.instance, args.image.as_deref())
        .await
        .context("cannot prune kcdev's derived images")?;
    if ctx.printer.json() {
        ctx.printer.json_value(&report);
    } else if report.removed.is_empty() {
        ctx.printer
            .summary("Nothing to remove: every derived image is in use.\n");
    } else {
        let lines: String = report
            .removed
            .iter()
            .map(|name| format!("Removed {name}\n"))
            .collect();
        ctx.printer.summary(&lines);
    }
    Ok(ExitStatus::Success)
}
