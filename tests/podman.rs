//! kcdev on Podman's Docker-compatible API: the test starts `podman system service` on a socket
//! of its own and runs the lifecycle through `DOCKER_HOST`. Skipped, saying why, where Podman is
//! not installed or cannot run a container on the machine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)] // tests fail loudly
#![allow(unsafe_code)] // getrlimit

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Kcdev, test_image};

/// Podman keeps images in its own store, under `localhost/` for names without a registry
/// (scripts/prepare-test-env.sh copies the test image there).
fn podman_image() -> String {
    format!("localhost/{}", test_image())
}

/// A `podman system service` on its own socket, stopped when dropped.
struct PodmanService {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl PodmanService {
    fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for PodmanService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn podman(config: Option<&Path>, args: &[&str]) -> std::process::Output {
    let mut command = Command::new("podman");
    command.args(args);
    if let Some(config) = config {
        command.env("CONTAINERS_CONF", config);
    }
    command.output().expect("run podman")
}

/// Podman as root sets the containers' open-file and process limits to its own maximums; where
/// the machine's sandbox forbids raising them (as on kcdev's CI machines), it says "error setting
/// rlimit ... operation not permitted". Then the service gets a configuration with limits the
/// machine allows: what a user on such a machine would put in containers.conf.
fn limits_config(dir: &Path) -> PathBuf {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    let nofile = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_max.min(65_536)
    } else {
        4096
    };
    let path = dir.join("containers.conf");
    std::fs::write(
        &path,
        format!(
            "[containers]\ndefault_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc=4096:4096\"]\n"
        ),
    )
    .unwrap();
    path
}

/// Starts the service, or says why Podman cannot be tested here.
fn start_podman() -> Result<PodmanService, String> {
    if Command::new("podman").arg("--version").output().is_err() {
        return Err("podman is not installed".to_owned());
    }
    let image = podman_image();
    if !podman(None, &["image", "exists", &image]).status.success() {
        return Err(format!(
            "{image} is not in Podman's store (scripts/prepare-test-env.sh copies it there)"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let probe = ["run", "--rm", "--network", "none", &image, "--version"];
    let mut config = None;
    let first = podman(None, &probe);
    if !first.status.success() {
        let stderr = String::from_utf8_lossy(&first.stderr);
        if !stderr.contains("rlimit") {
            return Err(format!("podman cannot run a container here: {stderr}"));
        }
        let path = limits_config(dir.path());
        let second = podman(Some(&path), &probe);
        if !second.status.success() {
            return Err(format!(
                "podman cannot run a container here, even with lower limits: {}",
                String::from_utf8_lossy(&second.stderr)
            ));
        }
        eprintln!("podman: container limits lowered to what this machine allows ({stderr})");
        config = Some(path);
    }
    let socket = dir.path().join("podman.sock");
    let mut command = Command::new("podman");
    command
        .args(["system", "service", "--time=0"])
        .arg(format!("unix://{}", socket.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(config) = &config {
        command.env("CONTAINERS_CONF", config);
    }
    let child = command
        .spawn()
        .map_err(|err| format!("podman system service: {err}"))?;
    let service = PodmanService {
        child,
        socket,
        _dir: dir,
    };
    let started = Instant::now();
    while !service.socket.exists() {
        if started.elapsed() > Duration::from_secs(30) {
            return Err("podman system service did not open its socket within 30 s".to_owned());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(service)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lifecycle_works_on_podman() {
    let service = match start_podman() {
        Ok(service) => service,
        Err(reason) => {
            eprintln!("SKIPPED the_lifecycle_works_on_podman: {reason}");
            return;
        }
    };
    let host = service.docker_host();
    let kcdev = Kcdev::new("podman").with_docker_host(&host);
    let image = podman_image();
    let owned = Kcdev::auto_port_up_args(&image);
    let up_args: Vec<&str> = owned.iter().map(String::as_str).collect();

    let first = kcdev.run(&up_args).ok().json();
    assert_eq!(first["container_action"], "created");
    assert_eq!(
        first["keycloak_version"],
        kcdev::defaults::keycloak_version()
    );
    let again = kcdev.run(&up_args).ok().json();
    assert_eq!(again["container_action"], "already-running");
    assert_eq!(
        again["provisioning"]["changes"],
        serde_json::json!([]),
        "no-op up"
    );

    let status = kcdev.run(&["status", "--json"]).ok().json();
    assert_eq!(status["engine"], host.as_str());
    assert_eq!(status["ready"], true);
    assert_eq!(status["container"]["status"], "running");
    assert_eq!(status["realm"]["drift"], serde_json::json!([]));
    assert_eq!(
        status["container"]["volume"],
        format!("kcdev-{}-data", kcdev.instance)
    );
    // Labels, published ports and the data volume are what kcdev finds things by.
    let token = kcdev.run(&["token", "-q"]).ok();
    assert_eq!(token.stdout.trim().split('.').count(), 3);

    let down = kcdev.run(&["down", "--json"]).ok().json();
    assert_eq!(
        down["container_removed"],
        format!("kcdev-{}-keycloak", kcdev.instance)
    );
    kcdev.run(&["status"]).failed_with(3);
    // The data survives: the next `up` brings the same realm back with nothing to do.
    let back = kcdev.run(&up_args).ok().json();
    assert_eq!(back["container_action"], "created");
    assert_eq!(back["provisioning"]["changes"], serde_json::json!([]));

    let gone = kcdev.run(&["down", "--volumes", "--json"]).ok().json();
    assert_eq!(
        gone["volumes_removed"],
        serde_json::json!([format!("kcdev-{}-data", kcdev.instance)])
    );
    let volumes = podman(None, &["volume", "ls", "-q"]);
    assert!(
        !String::from_utf8_lossy(&volumes.stdout).contains(&kcdev.instance),
        "the volume is gone from Podman"
    );
    drop(kcdev);
    drop(service);
}
