//! Generated servers (`kcdev new server`) run with `kcdev run`, as a user runs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Kcdev, wait_until_answers};

/// The first build of a generated project compiles all its dependencies.
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(1200);

/// Where generated projects are built: kept between runs (and shared by the test binaries, which
/// cargo runs one after another) so dependencies compile once.
pub fn generated_target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("generated-server-target")
}

/// SIGTERM to `kcdev run`, which passes it on; the server shuts down cleanly.
pub fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
}

/// `kcdev new server` into `dir`.
pub fn generate(kcdev: &Kcdev, dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    kcdev
        .run(&[
            "new",
            "server",
            "e2e-server",
            "--dir",
            dir.to_str().unwrap(),
        ])
        .ok();
}

/// `kcdev run dir [--server-url server_url]`, once `<base>/healthz` answers; stopped when dropped.
pub struct RunningServer(Option<Child>);

impl RunningServer {
    pub async fn start(kcdev: &Kcdev, dir: &Path, server_url: Option<&str>, base: &str) -> Self {
        let mut args = vec!["run", dir.to_str().unwrap()];
        if let Some(url) = server_url {
            args.extend(["--server-url", url]);
        }
        let mut command = kcdev.command(&args);
        command.env("CARGO_TARGET_DIR", generated_target_dir());
        let mut server = Self(Some(
            command.stdout(Stdio::null()).spawn().expect("kcdev run"),
        ));
        let health = format!("{base}/healthz");
        wait_until_answers(&health, BUILD_TIMEOUT, || {
            server
                .0
                .as_mut()
                .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
        })
        .await;
        server
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            stop(child);
        }
    }
}
