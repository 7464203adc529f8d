use anyhow::Context as _;
use kcdev::ops;
use kcdev::scaffold::LaunchStep;
use tokio::process::{Child, Command};

use super::{Ctx, ExitStatus};
use crate::cli::RunArgs;

pub async fn run(ctx: &Ctx, args: RunArgs) -> anyhow::Result<ExitStatus> {
    let launch = ops::prepare_run(&ctx.instance, &args.dir, args.server_url.as_deref())
        .await
        .with_context(|| format!("cannot run the server in {}", args.dir.display()))?;
    ctx.printer.note(&format!(
        "==> Running the {} project in {} against the realm; MCP endpoint {} (Ctrl-C stops it)",
        launch.language.name(),
        args.dir.display(),
        launch.resource_url
    ));
    let Some((server, preparation)) = launch.steps.split_last() else {
        return Ok(ExitStatus::Success);
    };
    for step in preparation {
        ctx.printer.note(&format!("==> {}", step.purpose));
        let status = run_step(step, &launch.env).await?;
        if !status.success() {
            // Nothing is stamped, so the next `kcdev run` tries the step again.
            anyhow::bail!(
                "`{}` failed ({status}) in {}; its output is above",
                command_line(step),
                step.dir.display()
            );
        }
        if let Some(stamp) = &step.stamp {
            stamp.write()?;
        }
    }
    ctx.printer.note(&format!("==> {}", server.purpose));
    let status = run_step(server, &launch.env).await?;
    Ok(ExitStatus::Child(
        status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(0),
    ))
}

fn command_line(step: &LaunchStep) -> String {
    std::iter::once(step.program.display().to_string())
        .chain(step.args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs one step to its end. It is in a process group of its own, out of the terminal's reach:
/// kcdev passes Ctrl-C (or SIGTERM) on to the whole group, so the server always shuts down
/// cleanly.
async fn run_step(
    step: &LaunchStep,
    env: &[(String, String)],
) -> anyhow::Result<std::process::ExitStatus> {
    let mut child = spawn(step, env)?;
    let status = tokio::select! {
        status = child.wait() => status,
        () = stop_signal() => {
            interrupt(&child);
            child.wait().await
        }
    };
    status.with_context(|| format!("lost track of `{}`", command_line(step)))
}

/// Each step runs in a process group of its own, so that a stop reaches every process it
/// started (`npm start` runs a shell that runs node; a signal to npm alone leaves node running).
fn spawn(step: &LaunchStep, env: &[(String, String)]) -> anyhow::Result<Child> {
    let mut command = Command::new(&step.program);
    command
        .args(&step.args)
        .current_dir(&step.dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    command.spawn().with_context(|| {
        format!(
            "cannot start {}: {}",
            step.program.display(),
            step.install_hint
        )
    })
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
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    if let Some(pid) = child.id().and_then(|id| i32::try_from(id).ok()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGINT);
    }
}

/// Windows has no process group to signal: the console delivers Ctrl-C to every process attached
/// to it, the step's own children included, so they stop without kcdev's help.
#[cfg(not(unix))]
fn interrupt(_child: &tokio::process::Child) {}
