use anyhow::Context as _;
use kcdev::ops::{self, TokenOptions};

use super::{Ctx, ExitStatus};
use crate::cli::TokenArgs;

pub async fn run(ctx: &Ctx, args: TokenArgs) -> anyhow::Result<ExitStatus> {
    let options = TokenOptions {
        context: ctx.instance.clone(),
        user: args.user.clone(),
        password: args.password,
        resource: args.resource,
        extra_scopes: args.scopes,
    };
    let report = ops::token(options)
        .await
        .with_context(|| format!("cannot get a token for {}", args.user))?;
    if ctx.printer.json() {
        ctx.printer.json_value(&report.token);
    } else if args.decode {
        ctx.printer.json_value(&report.claims);
    } else {
        ctx.printer
            .data(&format!("{}\n", report.token.access_token));
    }
    Ok(ExitStatus::Success)
}
