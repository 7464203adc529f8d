use anyhow::Context as _;
use kcdev::ops::{self, UpOptions};

use super::{Ctx, ExitStatus};
use crate::cli::UpArgs;
use crate::output::{NextStep, render_up, up_next_steps};

pub async fn run(ctx: &Ctx, args: UpArgs) -> anyhow::Result<ExitStatus> {
    let options = UpOptions {
        context: ctx.instance.clone(),
        image: args.image,
        pull: args.pull.into(),
        http_port: args.port,
        management_port: args.management_port,
        memory_bytes: args.memory,
        boot: args.boot.map(Into::into),
        timeout: args.timeout,
        recreate: args.recreate,
        realm: args.realm,
        server_urls: (!args.server_urls.is_empty()).then_some(args.server_urls),
        resource_indicators: match (args.resource_indicators, args.no_resource_indicators) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        trusted_hosts: (!args.trusted_hosts.is_empty()).then_some(args.trusted_hosts),
        user_password: args.user_password,
        cimd: match (args.cimd, args.no_cimd) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        cimd_domains: (!args.cimd_domains.is_empty()).then_some(args.cimd_domains),
        reset_realm: args.reset_realm.is_some(),
        reset_confirmation: args.reset_realm.flatten(),
        keycloak_url: args.keycloak_url,
        ca_cert: args.ca_cert,
        test_users: args.test_users.then_some(true),
        anonymous_registration: args.anonymous_registration.then_some(true),
        events: args.events.then_some(true),
    };
    let reporter = ctx.printer.reporter();
    let report = ops::up(options, &reporter)
        .await
        .with_context(|| format!("cannot bring up instance {}", ctx.instance.instance))?;
    if ctx.printer.json() {
        #[derive(serde::Serialize)]
        struct UpOutput<'a> {
            #[serde(flatten)]
            report: &'a kcdev::ops::UpReport,
            next_steps: Vec<NextStep>,
        }
        ctx.printer.json_value(&UpOutput {
            report: &report,
            next_steps: up_next_steps(&ctx.instance_flag()),
        });
    } else {
        ctx.printer.summary(&render_up(
            &report,
            ctx.printer.verbose(),
            &ctx.instance_flag(),
        ));
    }
    Ok(ExitStatus::Success)
}
