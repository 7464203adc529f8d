use anyhow::Context as _;
use kcdev::ops;
use tokio::process::Command;

use super::{Ctx, ExitStatus};
use crate::cli::RunArgs;

pub async fn run(ctx: &Ctx, args: RunArgs) -> anyhow::Result<ExitStatus> {
    let launch = ops::prepare_run(&ctx.instance, &args.dir, args.server_url.as_deref())
        .await
        .with_context(|| format!("cannot run the server in {}", args.dir.display()))?;
    ctx.printer.note(&format!(
        "==> Building and running {} against the realm; MCP endpoint {} (Ctrl-C stops it)",
        launch.manifest.display(),
        launch.resource_url
    ));
    let mut child = Command::new("cargo")
        .arg("run")
        .arg("--manifest-path")
        .arg(&launch.manifest)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .kill_on_drop(true)
        .spawn()
        .context("cannot start cargo (is Rust installed? https://rustup.rs)")?;
    let status = tokio::select! {
        status = child.wait() => status,
        () = stop_signal() => {
            // The terminal sends Ctrl-C to the whole process group; a signal aimed at kcdev
            // alone is passed on, so the server always shuts down cleanly.
            interrupt(&child);
            child.wait().await
        }
    }
    .context("lost track of the server process")?;
    Ok(ExitStatus::Child(
        status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(0),
    ))
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(unix)]
fn interrupt(child: &tokio::process::Child) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
    }
}

#[cfg(not(unix))]
fn interrupt(_child: &tokio::process::Child) {}
