use anyhow::Context as _;

use super::{Ctx, ExitStatus};

pub fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let dir = std::env::current_dir().context("cannot tell the current directory")?;
    let path = kcdev::project::init(&dir)?;
    ctx.printer.summary(&format!(
        "Wrote {}: kcdev's defaults, declared. Add your scopes, roles, groups, users and claims, then `kcdev plan` and `kcdev up`.",
        path.display()
    ));
    Ok(ExitStatus::Success)
}
