use anyhow::Context as _;
use futures_util::StreamExt;
use kcdev::ops::{self, LogsOptions};

use super::{Ctx, ExitStatus};
use crate::cli::LogsArgs;

pub async fn run(ctx: &Ctx, args: LogsArgs) -> anyhow::Result<ExitStatus> {
    let options = LogsOptions {
        context: ctx.instance.clone(),
        follow: args.follow,
        tail: args.tail,
    };
    let mut stream = ops::logs(options)
        .await
        .with_context(|| format!("cannot read the logs of instance {}", ctx.instance.instance))?;
    if ctx.printer.json() {
        // Without --follow the log has an end: one object with its lines.
        let mut log = Vec::new();
        while let Some(chunk) = stream.next().await {
            log.extend(chunk.context("the log stream broke off")?);
        }
        let text = String::from_utf8_lossy(&log);
        ctx.printer.json_value(&serde_json::json!({
            "instance": ctx.instance.instance.name(),
            "lines": text.lines().collect::<Vec<_>>(),
        }));
        return Ok(ExitStatus::Success);
    }
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.context("the log stream broke off")?;
        if !ctx.printer.bytes(&chunk) {
            break;
        }
    }
    Ok(ExitStatus::Success)
}
