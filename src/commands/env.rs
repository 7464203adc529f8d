use anyhow::Context as _;
use kcdev::ops::{ServerEnv, ValuesSource};

use super::{Ctx, ExitStatus};
use crate::cli::EnvArgs;

pub fn run(ctx: &Ctx, args: EnvArgs) -> anyhow::Result<ExitStatus> {
    let env = ServerEnv::of(&ctx.instance, args.server_url.as_deref()).with_context(|| {
        format!(
            "cannot read the values of instance {}",
            ctx.instance.instance
        )
    })?;
    if ctx.printer.json() {
        let map: serde_json::Map<String, serde_json::Value> = env
            .variables
            .iter()
            .map(|(name, value)| (name.clone(), value.clone().into()))
            .collect();
        ctx.printer.json_value(&map);
    } else {
        ctx.printer.data(&env.lines(args.export));
    }
    if env.source == ValuesSource::Defaults {
        ctx.printer.note(&format!(
            "note: instance {} was never brought up; these are kcdev's defaults",
            ctx.instance.instance
        ));
    }
    Ok(ExitStatus::Success)
}
