use anyhow::Context as _;
use kcdev::clients::Client;
use kcdev::ops::{self, ClientConfigOptions};

use super::{Ctx, ExitStatus};
use crate::cli::ClientConfigArgs;
use crate::output::{client_list, render_client_config, render_client_list};

pub fn run(ctx: &Ctx, args: ClientConfigArgs) -> anyhow::Result<ExitStatus> {
    let Some(client) = args.client.map(Client::from) else {
        if ctx.printer.json() {
            ctx.printer.json_value(&client_list());
        } else {
            ctx.printer.data(&render_client_list());
        }
        return Ok(ExitStatus::Success);
    };
    let options = ClientConfigOptions {
        context: ctx.instance.clone(),
        client,
        name: args.name,
        registration: args.registration.map(Into::into),
        server_url: args.server_url,
        write: args.write,
        scope: args.scope.map(Into::into),
    };
    let report = ops::client_config(options)
        .with_context(|| format!("cannot configure {}", client.title()))?;
    if ctx.printer.json() || ctx.printer.quiet() {
        ctx.printer.json_value(&report.config.snippet);
        if let Some((path, outcome)) = &report.written {
            ctx.printer
                .note(&format!("{}: {outcome:?}", path.display()));
        }
    } else {
        ctx.printer.data(&render_client_config(&report));
    }
    Ok(ExitStatus::Success)
}
