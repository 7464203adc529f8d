use anyhow::Context as _;
use kcdev::events::Entry;
use kcdev::ops::{self, EventFollower, EventsOptions, FOLLOW_INTERVAL};

use super::{Ctx, ExitStatus};
use crate::cli::EventsArgs;
use crate::output::{Printer, Timeline, render_events, render_events_header};

pub async fn run(ctx: &Ctx, args: EventsArgs) -> anyhow::Result<ExitStatus> {
    let options = EventsOptions {
        context: ctx.instance.clone(),
        since: args.since,
        client: args.client,
        user: args.user,
        errors_only: args.errors,
        limit: args.limit,
    };
    let failed = || {
        format!(
            "cannot read the events of instance {}",
            ctx.instance.instance
        )
    };
    let printer = &ctx.printer;
    if !args.follow {
        let report = ops::events(options).await.with_context(failed)?;
        if printer.json() {
            for entry in &report.entries {
                if !printer.json_line(entry) {
                    break;
                }
            }
        } else {
            printer.data(&render_events(&report));
        }
        return Ok(ExitStatus::Success);
    }
    // Installed before anything else, so that a Ctrl-C at any moment ends the loop cleanly.
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    let mut follower = EventFollower::connect(options).await.with_context(failed)?;
    let report = follower.start().await.with_context(failed)?;
    let mut timeline = Timeline::default();
    if !printer.json() {
        printer.data(&render_events_header(&report));
    }
    if !show(printer, &mut timeline, &report.entries) {
        return Ok(ExitStatus::Success);
    }
    printer.note("Following new events (Ctrl-C stops).");
    loop {
        tokio::select! {
            _ = &mut interrupted => break,
            polled = async {
                tokio::time::sleep(FOLLOW_INTERVAL).await;
                follower.poll().await
            } => {
                if !show(printer, &mut timeline, &polled.with_context(failed)?) {
                    break;
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// Prints entries as they come; false once the reader has gone (`kcdev events -f | head`).
fn show(printer: &Printer, timeline: &mut Timeline, entries: &[Entry]) -> bool {
    entries.iter().all(|entry| {
        if printer.json() {
            printer.json_line(entry)
        } else {
            printer.bytes(timeline.render(entry).as_bytes())
        }
    })
}
