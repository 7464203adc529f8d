use anyhow::Context as _;

use super::{Ctx, ExitStatus};

pub fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let dir = std::env::current_dir().context("cannot tell the current directory")?;
    // The instance's realm and server as they are (kcdev's defaults before any `up`).
    let endpoints = ctx.instance.endpoints()?;
    let realm = match ctx.instance.load_state()? {
        Some(state) => state.realm.name,
        None => kcdev::defaults::REALM.to_owned(),
    };
    let path = kcdev::project::init(&dir, &realm, &endpoints.server_url)?;
    ctx.printer.summary(&format!(
        "Wrote {}: kcdev's defaults, declared. Add your scopes, roles, groups, users and claims, then `kcdev plan` and `kcdev up`.",
        path.display()
    ));
    Ok(ExitStatus::Success)
}
